"""Routes of canned responses."""

from rest_framework.routers import SimpleRouter

from .views import CannedResponseViewSet

router = SimpleRouter()
router.register("canned-responses", CannedResponseViewSet, basename="canned-response")

urlpatterns = router.urls
