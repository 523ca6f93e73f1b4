"""Public pages for customers (no login): survey answers, mounted at the site root by ``config/urls.py``."""

from django.urls import path

from .views import survey_answer_view, survey_opt_out_view

urlpatterns = [
    path("s/<str:token>/", survey_answer_view, name="survey-answer"),
    path("s/<str:token>/opt-out/", survey_opt_out_view, name="survey-opt-out"),
]
