"""Shapes of a survey answer sent through the API."""

from rest_framework import serializers

from config.api.serializers import InputSerializer


class SurveyAnswerInputSerializer(InputSerializer):
    score = serializers.IntegerField(help_text="CSAT 1–5, NPS 0–10, CES 1–7")
    comment = serializers.CharField(max_length=5000, allow_blank=True, required=False, default="")


class SurveyAnswerOutputSerializer(serializers.Serializer):
    survey = serializers.IntegerField(source="survey_id")
    score = serializers.IntegerField()
    comment = serializers.CharField()
    answered_at = serializers.DateTimeField()
