app_name = "crm-api"

urlpatterns: list = []
