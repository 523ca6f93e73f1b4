"""What inboxes (``crm.inboxes``) add to the interaction and message JSON, read through the core's relations only
(the core imports no other concern): an interaction's inbox, and an outbound message's delivery."""

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from crm.interactions.models import Interaction, Message

INBOX_SCHEMA = inline_serializer(
    "InteractionInbox",
    {"id": serializers.IntegerField(), "name": serializers.CharField(), "channel": serializers.CharField()},
    allow_null=True,
    help_text="the inbox the customer wrote to; null for work entered through the API",
)
DELIVERY_SCHEMA = inline_serializer(
    "MessageDelivery",
    {
        "status": serializers.CharField(help_text="pending, sent or failed"),
        "attempts": serializers.IntegerField(),
        "error": serializers.CharField(help_text="why it failed, or the last temporary failure while pending"),
        "sent_at": serializers.DateTimeField(allow_null=True),
    },
    allow_null=True,
    help_text="an outbound message sent through an inbox; null otherwise",
)
_SENT_AT = serializers.DateTimeField()


class InboxSummaries:
    """The center's inboxes by id, read in one query the first time a row has one (a list joins nothing)."""

    def __init__(self) -> None:
        self._rows: dict[int, dict] | None = None

    def of(self, interaction: Interaction) -> dict | None:
        if interaction.inbox_id is None:
            return None
        if self._rows is None:
            inboxes = Interaction.inbox.field.related_model.objects.values("id", "name", "channel")
            self._rows = {row["id"]: row for row in inboxes}
        return self._rows.get(interaction.inbox_id)


def message_delivery(message: Message) -> dict | None:
    """The delivery of an outbound message (joined in by the list: ``select_related("delivery")``)."""
    delivery = getattr(message, "delivery", None)
    if delivery is None:
        return None
    return {
        "status": delivery.status,
        "attempts": delivery.attempts,
        "error": delivery.error,
        "sent_at": _SENT_AT.to_representation(delivery.sent_at) if delivery.sent_at else None,
    }
