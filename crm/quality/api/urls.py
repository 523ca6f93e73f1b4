from rest_framework.routers import SimpleRouter

from .views import ReviewViewSet

router = SimpleRouter()
router.trailing_slash = "/?"  # with or without the slash, like the agents API
router.register("reviews", ReviewViewSet, basename="review")

urlpatterns = router.urls
