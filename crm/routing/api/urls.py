"""Routes of the set-up resources: queues, SLA policies and the customer timeline."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import BusinessHoursViewSet, CustomerTimelineView, QueueViewSet, SLAPolicyViewSet

router = SimpleRouter()
router.register("queues", QueueViewSet, basename="queue")
router.register("sla-policies", SLAPolicyViewSet, basename="sla-policy")
router.register("business-hours", BusinessHoursViewSet, basename="business-hours")

urlpatterns = [
    path("customers/<str:pk>/timeline/", CustomerTimelineView.as_view(), name="customer-timeline"),
    *router.urls,
]
