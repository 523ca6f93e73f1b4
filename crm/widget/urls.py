from django.urls import path

from . import views

app_name = "widget"

urlpatterns = [
    path("widget/<str:public_key>.js", views.widget_script, name="script"),
]
