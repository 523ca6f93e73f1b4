from django.urls import path

from .preferences import preferences_view

urlpatterns = [path("preferences/", preferences_view, name="preferences")]
