"""Routes of the inboxes resource (mounted under /api/v1/ by the crm API's aggregator)."""

from rest_framework.routers import SimpleRouter

from .views import InboxViewSet

router = SimpleRouter()
router.register("inboxes", InboxViewSet, basename="inbox")

urlpatterns = router.urls
