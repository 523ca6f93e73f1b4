"""Route of the public survey answer endpoint."""

from django.urls import path

from .views import SurveyResponseView

urlpatterns = [
    path("surveys/<str:token>/responses", SurveyResponseView.as_view(), name="survey-responses"),
]
