"""Routes of interactions and their messages; both ``/x`` and ``/x/`` resolve (integrators send either)."""

from rest_framework.routers import SimpleRouter

from .views import InteractionMessageViewSet, InteractionViewSet

router = SimpleRouter()
# SimpleRouter's constructor only knows "/" or "", so the optional slash is set afterwards.
router.trailing_slash = "/?"
router.register(r"interactions", InteractionViewSet, basename="interaction")
router.register(
    r"interactions/(?P<interaction_pk>[^/]+)/messages", InteractionMessageViewSet, basename="interaction-message"
)

urlpatterns = router.urls
