"""Shapes of the webhook subscriptions."""

from rest_framework import serializers

from config.api.serializers import InputSerializer, OutputModelSerializer, StrictCharField
from crm.choices import WEBHOOK_EVENT_TYPES

from ..models import Webhook

EVENT_CHOICES = [*WEBHOOK_EVENT_TYPES, "*"]


class WebhookInputSerializer(InputSerializer):
    url = serializers.URLField(
        max_length=2000, help_text="http(s), without user:password@; private and loopback addresses are refused"
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_CHOICES), min_length=1, help_text='event types, or ["*"]'
    )
    secret = StrictCharField(
        max_length=200, min_length=16, required=False, help_text="HMAC key; generated when left out"
    )
    name = StrictCharField(max_length=100, allow_blank=True, required=False)
    is_active = serializers.BooleanField(required=False, help_text="true re-activates a disabled subscription")


class WebhookOutputSerializer(OutputModelSerializer):
    class Meta:
        model = Webhook
        fields = [
            "id",
            "name",
            "url",
            "events",
            "is_active",
            "failure_count",
            "failing_since",
            "disabled_at",
            "disabled_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class WebhookCreatedOutputSerializer(WebhookOutputSerializer):
    """As created: the only time the secret is returned."""

    class Meta(WebhookOutputSerializer.Meta):
        fields = [*WebhookOutputSerializer.Meta.fields, "secret"]
        read_only_fields = fields
