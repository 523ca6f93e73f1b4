"""The interaction's event log: every move appends an event, which is announced once the transaction commits.

Appending an event calls the ``events_logged`` hook (``crm.interactions.hooks``) in the event's transaction,
where the concerns write the outbox rows it causes (webhook deliveries, the survey of a resolution), so a
crash between commit and publish cannot lose them; on commit ``interaction_changed`` is sent.
"""

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from django.db import transaction

from ..hooks import run_events_logged
from ..models import Interaction, InteractionEvent
from ..signals import interaction_changed


def log_event(
    *,
    interaction: Interaction,
    kind: str,
    from_status: str,
    to_status: str,
    actor=None,
    agent_id: int | None = None,
    at: datetime,
    data: Mapping[str, Any] | None = None,
) -> InteractionEvent:
    """Append an event to the interaction's log and announce it once the transaction commits.

    Events that change no status (``updated``, ``first_response``) carry the current status as both
    ``from_status`` and ``to_status``.
    """
    event = new_event(
        interaction=interaction,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        agent_id=agent_id,
        at=at,
        data=data,
    )
    event.save(force_insert=True)
    announce(event)
    return event


def new_event(*, interaction, kind, from_status, to_status, actor=None, agent_id=None, at, data=None):
    """An unsaved event (``log_event`` saves one; creation saves its two in one INSERT)."""
    return InteractionEvent(
        interaction=interaction,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        agent_id=agent_id,
        at=at,
        data=dict(data or {}),
    )


def _known(event: InteractionEvent) -> dict[str, Any]:
    """The event's interaction's channel and inbox when the event was made with the interaction at hand (always,
    in the services), else a channel of None (and no inbox): never a query for them."""
    interaction = InteractionEvent.interaction.field.get_cached_value(event, default=None)
    if interaction is None:
        return {"channel": None, "inbox": None}
    return {"channel": interaction.channel, "inbox": interaction.inbox_id}


def _change(event: InteractionEvent) -> dict[str, Any]:
    return {
        "interaction_id": event.interaction_id,
        "kind": event.kind,
        "from_status": event.from_status,
        "to_status": event.to_status,
        **_known(event),
    }


def _send_batch(batch: tuple[dict[str, Any], ...]) -> None:
    for index, change in enumerate(batch):
        interaction_changed.send(sender=Interaction, **change, batch=batch, batch_index=index)


# Inside ``announced_together``: the changes committed by the block's transaction, announced as one batch.
_together: ContextVar[list[dict[str, Any]] | None] = ContextVar("interaction_changes_together", default=None)


@contextmanager
def announced_together() -> Iterator[None]:
    """Within the block (inside one transaction that changes many interactions: a batch of queued mail), every
    change is announced in one ``interaction_changed`` batch once the transaction commits, not each on its own: the
    receivers publish one round of live events and ask for one routing run for all of them. Each change joins the
    batch by an on-commit callback of its own, so one made in a savepoint that rolled back is never announced."""
    changes: list[dict[str, Any]] = []
    token = _together.set(changes)
    try:
        yield
    finally:
        _together.reset(token)
    transaction.on_commit(lambda: changes and _send_batch(tuple(changes)))  # after every change's own callback


def announce_batch(events: Sequence[InteractionEvent]) -> None:
    """One on-commit hook that sends ``interaction_changed`` for each event, each naming the whole batch."""
    batch = tuple(_change(event) for event in events)
    together = _together.get()
    if together is not None and batch:
        transaction.on_commit(lambda: together.extend(batch))
    elif batch:
        transaction.on_commit(lambda: _send_batch(batch))


def announce(event: InteractionEvent) -> None:
    """Write the event's outbox rows (the ``events_logged`` hook), and send ``interaction_changed`` on commit."""
    run_events_logged(events=[event])
    together = _together.get()
    if together is not None:
        change = _change(event)
        transaction.on_commit(lambda: together.append(change))
        return
    interaction_id, kind, from_status, to_status = event.interaction_id, event.kind, event.from_status, event.to_status
    known = _known(event)
    transaction.on_commit(
        lambda: interaction_changed.send(
            sender=Interaction,
            interaction_id=interaction_id,
            kind=kind,
            from_status=from_status,
            to_status=to_status,
            **known,
        )
    )


def log_events(*, events: Iterable[InteractionEvent]) -> list[InteractionEvent]:
    """Save many unsaved events in one INSERT (ids follow the given order) and announce each on commit."""
    saved = InteractionEvent.objects.bulk_create(list(events))
    for event in saved:
        announce(event)
    return saved
