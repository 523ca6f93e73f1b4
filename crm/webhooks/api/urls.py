"""Routes of the webhook subscriptions and of the public survey answer endpoint."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import SurveyResponseView, WebhookViewSet

router = SimpleRouter()
router.register("webhooks", WebhookViewSet, basename="webhook")

urlpatterns = [
    path("surveys/<str:token>/responses", SurveyResponseView.as_view(), name="survey-responses"),
    *router.urls,
]
