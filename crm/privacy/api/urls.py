"""Routes of data protection."""

from django.urls import path

from .views import CustomerEraseView, CustomerExportView, ExportDetailView, ExportDownloadView

urlpatterns = [
    path("customers/<str:id>/export/", CustomerExportView.as_view(), name="customer-export"),
    path("customers/<str:id>/erase/", CustomerEraseView.as_view(), name="customer-erase"),
    path("exports/<str:id>/", ExportDetailView.as_view(), name="export-detail"),
    path("exports/<str:id>/download/", ExportDownloadView.as_view(), name="export-download"),
]
