"""Routes of the SLA policies and the business-hours calendars."""

from rest_framework.routers import SimpleRouter

from .views import BusinessHoursViewSet, SLAPolicyViewSet

router = SimpleRouter()
router.register("sla-policies", SLAPolicyViewSet, basename="sla-policy")
router.register("business-hours", BusinessHoursViewSet, basename="business-hours")

urlpatterns = router.urls
