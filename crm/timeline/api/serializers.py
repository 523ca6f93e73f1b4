"""Shapes of a customer's timeline: the query parameters and the page of entries."""

from rest_framework import serializers

from config.api.serializers import RejectUnknownFieldsMixin
from config.choices import Channel
from crm.choices import InteractionStatus, MessageDirection

from ..selectors import TimelineKind


class TimelineQuerySerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    cursor = serializers.CharField(required=False, max_length=500, help_text="the `next` link's cursor")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=200, default=50)


class TimelineEntryOutputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=TimelineKind.choices)
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    interaction = serializers.IntegerField(source="interaction_id", allow_null=True)
    title = serializers.CharField(allow_blank=True, help_text="interaction subject, or survey kind")
    body = serializers.CharField(allow_blank=True, help_text="message, note or survey comment (first 500 characters)")
    score = serializers.IntegerField(allow_null=True, help_text="survey answers only")
    channel = serializers.ChoiceField(choices=Channel.choices, allow_blank=True)
    status = serializers.ChoiceField(choices=InteractionStatus.choices, allow_blank=True, help_text="interactions only")
    direction = serializers.ChoiceField(
        choices=MessageDirection.choices,
        allow_blank=True,
        help_text="interactions: inbound/outbound; messages also internal",
    )


class TimelineOutputSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    results = TimelineEntryOutputSerializer(many=True)
