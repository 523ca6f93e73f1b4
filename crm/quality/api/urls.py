"""Routes of quality reviews and canned responses."""

from rest_framework.routers import SimpleRouter

from .views import CannedResponseViewSet, ReviewViewSet

canned_responses = SimpleRouter()
canned_responses.register("canned-responses", CannedResponseViewSet, basename="canned-response")

reviews = SimpleRouter()
reviews.trailing_slash = "/?"  # with or without the slash, like the agents API
reviews.register("reviews", ReviewViewSet, basename="review")

urlpatterns = [*canned_responses.urls, *reviews.urls]
