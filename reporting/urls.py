"""Dashboard pages under ``/reports/`` (the reports API lives in ``reporting.api``)."""

from django.urls import path

from . import views

app_name = "reporting"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("staffing/", views.staffing, name="staffing"),
]
