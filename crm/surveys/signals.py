"""Signals of the surveys, sent after their transaction commits."""

from django.dispatch import Signal

# kwargs: survey_id (int), interaction_id (int), kind (SurveyKind), score (int); sent when an answer committed
survey_answered = Signal()
