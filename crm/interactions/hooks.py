"""The core's hook list: what other concerns do inside the transaction of a change to an interaction.

``crm.interactions`` imports no other crm concern. Work that must commit or roll back with a lifecycle move
(SLA due times, webhook and survey outbox rows) is done by handlers the concerns register on the hooks below,
from ``CrmConfig.ready()`` (``crm/apps.py``), in a fixed order, so web, workers and tests run the same list.
Handlers run synchronously, in registration order, under the interaction's row lock; an exception in one rolls
the move back. What must wait for the commit is not a hook: the core sends ``interaction_changed`` and
``message_created`` (``crm.interactions.signals``) from ``transaction.on_commit``, and handlers that publish
tasks do so with ``transaction.on_commit`` themselves.

``interaction_saving(*, interaction, move) -> Sequence[str]``
    Before a change is saved: every status move (``move.kind`` the event it logs), a priority change
    (``updated``), a message that moves the reply clocks (``message``), and a new interaction before its
    INSERT (``created``; ``interaction.pk`` is None then). ``interaction`` is the locked instance with the
    core's changes set (``move.changed`` names them). A handler may set more fields on it and returns their
    names; the core saves them with its own. Registered: ``crm.sla.hooks.refresh_due_times``.

``events_logged(*, events) -> None``
    Right after events were inserted into an interaction's log, in their transaction: one call per event, or
    one for a batch inserted at once (a router's assignments). Handlers write the outbox rows the events
    cause. Registered, in this order: ``crm.webhooks.hooks.emit_interaction_webhooks`` (``interaction.*``
    deliveries), ``crm.surveys.hooks.schedule_survey_on_resolution``.

``message_saving(*, message) -> None``
    Before a message's INSERT (``message_insert``), in its transaction: ``message`` is the unsaved instance
    (``pk`` None). A handler may set fields on it that are decided by then, so the row is written once instead of
    inserted and updated. Registered: ``crm.inboxes.hooks.mark_delivery_pending`` (a reply through an inbox is
    written ``pending``: its delivery follows in ``message_saved``).

``message_saved(*, message) -> None``
    Right after a message was inserted (``message_insert``: replies, notes, inbound messages, a new interaction's
    first message), in its transaction. Handlers write the outbox rows it causes. Registered, in this order:
    ``crm.inboxes.hooks.enqueue_delivery`` (the delivery of an outbound message through its inbox),
    ``crm.webhooks.hooks.emit_message_webhooks`` (``message.created``).

``queue_for_channel(*, channel) -> Queue | None``
    Where new work on ``channel`` goes when its creator names no queue; the first answer that is not None
    wins, none leaves the interaction ``new``. Registered: ``crm.routing.hooks.default_queue_for_channel``.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from django.db import models

from config.hooks import Hook

from .models import Interaction, InteractionEvent, Message

# ``Move.kind`` of a message that starts or stops a reply clock (it logs no status event of its own).
MESSAGE = "message"


@dataclass(frozen=True, slots=True)
class Move:
    """What is about to be saved: the event kind it logs, the statuses before and after, the fields changed."""

    kind: str
    from_status: str  # "" for a new interaction
    to_status: str
    changed: frozenset[str]
    now: datetime


class InteractionSaving(Protocol):
    def __call__(self, *, interaction: Interaction, move: Move) -> Sequence[str]: ...


class EventsLogged(Protocol):
    def __call__(self, *, events: Sequence[InteractionEvent]) -> None: ...


class MessageSaving(Protocol):
    def __call__(self, *, message: Message) -> None: ...


class MessageSaved(Protocol):
    def __call__(self, *, message: Message) -> None: ...


class QueueForChannel(Protocol):
    # the queue model belongs to crm.routing: the core knows it only as the target of ``Interaction.queue``
    def __call__(self, *, channel: str) -> models.Model | None: ...


interaction_saving: Hook[InteractionSaving] = Hook(
    "interaction_saving", "Set derived fields of an interaction about to be saved; return their names."
)
events_logged: Hook[EventsLogged] = Hook(
    "events_logged", "Write what events of the interaction log cause, in their transaction."
)
message_saving: Hook[MessageSaving] = Hook(
    "message_saving", "Set fields of a message about to be inserted that are decided already (its delivery status)."
)
message_saved: Hook[MessageSaved] = Hook(
    "message_saved", "Write what a new message causes (its delivery, its webhooks), in its transaction."
)
queue_for_channel: Hook[QueueForChannel] = Hook(
    "queue_for_channel", "The queue new work on a channel goes to when no queue is named."
)

HOOKS = (interaction_saving, events_logged, message_saving, message_saved, queue_for_channel)


def run_interaction_saving(*, interaction: Interaction, move: Move) -> list[str]:
    """Call the ``interaction_saving`` handlers; the fields they set, in order, for the caller to save."""
    fields: list[str] = []
    for handler in interaction_saving:
        fields += handler(interaction=interaction, move=move)
    return fields


def run_events_logged(*, events: Sequence[InteractionEvent]) -> None:
    if events:
        for handler in events_logged:
            handler(events=events)


def run_message_saving(*, message: Message) -> None:
    for handler in message_saving:
        handler(message=message)


def run_message_saved(*, message: Message) -> None:
    for handler in message_saved:
        handler(message=message)


def first_queue_for_channel(*, channel: str) -> models.Model | None:
    for handler in queue_for_channel:
        queue = handler(channel=channel)
        if queue is not None:
            return queue
    return None
