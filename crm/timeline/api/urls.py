"""Route of a customer's timeline."""

from django.urls import path

from .views import CustomerTimelineView

urlpatterns = [
    path("customers/<str:pk>/timeline/", CustomerTimelineView.as_view(), name="customer-timeline"),
]
