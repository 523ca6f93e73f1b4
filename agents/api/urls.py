app_name = "agents-api"

urlpatterns: list = []
