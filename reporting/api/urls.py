"""Routes of the reports API; ``/x`` and ``/x/`` both resolve (integrators send either)."""

from django.urls import re_path

from .views import CategoryReportView, IvrReportView, KpiReportView, OccupancyReportView

app_name = "reporting-api"

urlpatterns = [
    re_path(r"^reports/kpis/?$", KpiReportView.as_view(), name="kpis"),
    re_path(r"^reports/categories/?$", CategoryReportView.as_view(), name="categories"),
    re_path(r"^reports/occupancy/?$", OccupancyReportView.as_view(), name="occupancy"),
    re_path(r"^reports/ivr/?$", IvrReportView.as_view(), name="ivr"),
]
