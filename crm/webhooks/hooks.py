"""What webhooks register on the core's hooks.

``events_logged`` (``crm.interactions.hooks``): ``emit_interaction_webhooks`` writes the ``interaction.*``
deliveries of the events just logged, in their transaction (the outbox), so a crash between commit and publish
cannot lose them; the beat sweep publishes what the on-commit publish missed.

``message_saved``: ``emit_message_webhooks`` writes ``message.created`` for each customer's message and reply
(internal notes never leave the center), in the message's transaction. ``message.delivery_failed`` is written by
``crm.inboxes`` when an outbound message could not be delivered, with the same ``message`` object.
"""

from collections.abc import Sequence
from typing import Any

from crm.choices import InteractionEventKind, InteractionStatus, MessageDirection
from crm.interactions import hooks as core
from crm.interactions.models import InteractionEvent, Message

from .services import webhook_emit, webhook_emit_many

Kind = InteractionEventKind

# Event kinds that integrators hear about by webhook.
WEBHOOK_EVENTS = {
    Kind.CREATED: "interaction.created",
    Kind.ASSIGNED: "interaction.assigned",
    Kind.RESOLVED: "interaction.resolved",
}


def _webhook_type(event: InteractionEvent) -> str | None:
    if event.kind == Kind.TRANSFERRED and event.to_status == InteractionStatus.ASSIGNED:
        return "interaction.assigned"  # a transfer to an agent assigns it to them
    return WEBHOOK_EVENTS.get(event.kind)


def _webhook_data(event: InteractionEvent) -> dict[str, Any]:
    interaction = event.interaction
    return {
        "interaction": {
            "id": interaction.pk,
            "status": event.to_status,
            "channel": interaction.channel,
            "customer_id": interaction.customer_id,
            "queue_id": interaction.queue_id,
            "agent_id": interaction.agent_id,
            "priority": interaction.priority,
            "subject": interaction.subject,
            "disposition": interaction.disposition,
            "category": interaction.category,
        },
        "from_status": event.from_status,
    }


def emit_interaction_webhooks(*, events: Sequence[InteractionEvent]) -> None:
    """The deliveries of one event, or of a batch: one subscription query and one INSERT per event type."""
    if len(events) == 1:
        event = events[0]
        webhook_type = _webhook_type(event)
        if webhook_type is not None:
            webhook_emit(type=webhook_type, data=_webhook_data(event), at=event.at)
        return
    by_type: dict[str, list[InteractionEvent]] = {}
    for event in events:
        webhook_type = _webhook_type(event)
        if webhook_type is not None:
            by_type.setdefault(webhook_type, []).append(event)
    for webhook_type, typed in by_type.items():
        webhook_emit_many(type=webhook_type, events=[_webhook_data(e) for e in typed], ats=[e.at for e in typed])


def message_webhook_data(message: Message, *, inbox_id: int | None = None) -> dict[str, Any]:
    """The ``message`` object of the ``message.*`` events (``inbox_id`` when the caller knows it better)."""
    interaction = message.interaction
    return {
        "message": {
            "id": message.pk,
            "interaction_id": message.interaction_id,
            "direction": message.direction,
            "body": message.body,
            "inbox_id": inbox_id if inbox_id is not None else message.inbox_id,
            "external_id": message.external_id,
            "attachments": [
                {key: item.get(key) for key in ("name", "content_type", "size")}
                for item in message.attachments or []
                if isinstance(item, dict)
            ],
            "delivery_status": message.delivery_status,
            "created_at": message.created_at,
        },
        "interaction": {
            "id": interaction.pk,
            "channel": interaction.channel,
            "customer_id": interaction.customer_id,
            "status": interaction.status,
            "subject": interaction.subject,
        },
    }


def emit_message_webhooks(*, message: Message) -> None:
    if message.direction != MessageDirection.INTERNAL:
        webhook_emit(type="message.created", data=message_webhook_data(message), at=message.created_at)


def register() -> None:
    core.events_logged.register(emit_interaction_webhooks)
    core.message_saved.register(emit_message_webhooks)
