"""Every change of an interaction's status goes through here.

Each move locks the row, checks ``INTERACTION_TRANSITIONS``, stamps the step's timestamp, adds the
time spent in the state it leaves to the handle-time parts, appends one ``InteractionEvent`` and,
once the transaction commits, sends ``crm.signals.interaction_changed``. A move the lifecycle does
not allow raises ``IllegalTransition`` and changes nothing.

The services return the updated interaction and also refresh the fields they changed on the
instance they were given, so a caller holding it does not read stale values.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import nullcontext
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from agents.choices import AgentStatus
from agents.models import Agent
from config.choices import Channel
from config.errors import DomainError, IllegalTransition
from contacts.models import Customer
from contacts.services import customer_find_or_create_by_identity

from ..choices import (
    INTERACTION_TRANSITIONS,
    OWNED_STATUSES,
    AssignmentEndReason,
    Direction,
    InteractionEventKind,
    InteractionStatus,
    MessageDirection,
    Priority,
)
from ..models import Assignment, Interaction, InteractionEvent, Queue
from ..selectors.interactions import queue_default_for_channel
from ..signals import interaction_changed
from .sla import sla_refresh
from .surveys import survey_schedule
from .webhooks import webhook_emit, webhook_emit_many

S = InteractionStatus
Kind = InteractionEventKind

# Leaving one of these states adds the time spent in it to this handle-time field.
HANDLE_TIME_FIELDS = {S.ACTIVE: "talk_seconds", S.ON_HOLD: "hold_seconds", S.WRAP_UP: "wrap_up_seconds"}
MAX_TAGS, MAX_TAG_LENGTH = 50, 50


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


# --- shared machinery ------------------------------------------------------------------------------


def _allowed_text(status: str) -> str:
    allowed = [s for s in S.values if s in INTERACTION_TRANSITIONS[status]]
    return ", ".join(allowed) if allowed else "none"


def _illegal(interaction_id: int, status: str, verb: str) -> IllegalTransition:
    return IllegalTransition(
        f"Interaction {interaction_id} is {status}; it cannot be {verb}. Allowed from {status}: {_allowed_text(status)}."
    )


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
    event = _new_event(
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
    _announce(event)
    return event


def _new_event(*, interaction, kind, from_status, to_status, actor=None, agent_id=None, at, data=None):
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


# Event kinds that integrators hear about by webhook.
WEBHOOK_EVENTS = {
    Kind.CREATED: "interaction.created",
    Kind.ASSIGNED: "interaction.assigned",
    Kind.RESOLVED: "interaction.resolved",
}


def _write_outboxes(event: InteractionEvent) -> None:
    """In the event's own transaction: the webhook deliveries and the survey it causes (the outboxes).

    Written here, not by a receiver of ``interaction_changed`` (which runs after the commit), so a crash
    between commit and publish cannot lose them; the beat sweeps publish what the on-commit publish missed.
    """
    webhook_type = _webhook_type(event)
    if webhook_type is None:
        return
    webhook_emit(type=webhook_type, data=_webhook_data(event), at=event.at)
    if event.kind == Kind.RESOLVED:
        survey_schedule(interaction=event.interaction, now=event.at)


def _webhook_type(event: InteractionEvent) -> str | None:
    if event.kind == Kind.TRANSFERRED and event.to_status == S.ASSIGNED:
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


def _write_outboxes_many(events: Sequence[InteractionEvent]) -> None:
    """``_write_outboxes`` for many events: one subscription query and one INSERT per webhook event type."""
    by_type: dict[str, list[InteractionEvent]] = {}
    for event in events:
        webhook_type = _webhook_type(event)
        if webhook_type is not None:
            by_type.setdefault(webhook_type, []).append(event)
        if event.kind == Kind.RESOLVED:
            survey_schedule(interaction=event.interaction, now=event.at)
    for webhook_type, typed in by_type.items():
        webhook_emit_many(type=webhook_type, events=[_webhook_data(e) for e in typed], ats=[e.at for e in typed])


def _announce_batch(events: Sequence[InteractionEvent]) -> None:
    """One on-commit hook that sends ``interaction_changed`` for each event, each naming the whole batch."""
    batch = tuple(
        {
            "interaction_id": event.interaction_id,
            "kind": event.kind,
            "from_status": event.from_status,
            "to_status": event.to_status,
        }
        for event in events
    )

    def send() -> None:
        for index, change in enumerate(batch):
            interaction_changed.send(sender=Interaction, **change, batch=batch, batch_index=index)

    if batch:
        transaction.on_commit(send)


def _announce(event: InteractionEvent) -> None:
    """Write the event's outbox rows, and send ``interaction_changed`` once the transaction commits."""
    _write_outboxes(event)
    interaction_id, kind, from_status, to_status = event.interaction_id, event.kind, event.from_status, event.to_status
    transaction.on_commit(
        lambda: interaction_changed.send(
            sender=Interaction,
            interaction_id=interaction_id,
            kind=kind,
            from_status=from_status,
            to_status=to_status,
        )
    )


def log_events(*, events: Iterable[InteractionEvent]) -> list[InteractionEvent]:
    """Save many unsaved events in one INSERT (ids follow the given order) and announce each on commit."""
    saved = InteractionEvent.objects.bulk_create(list(events))
    for event in saved:
        _announce(event)
    return saved


def _seconds_in_status(*, interaction: Interaction, now: datetime) -> int:
    """How long the interaction has been in its current status, from the event that brought it there."""
    entered_at = (
        InteractionEvent.objects.filter(interaction_id=interaction.pk, to_status=interaction.status)
        .exclude(from_status=F("to_status"))  # updates and first responses did not enter the status
        .order_by("-at", "-id")
        .values_list("at", flat=True)
        .first()
    )
    if entered_at is None:
        return 0
    return max(0, round((now - entered_at).total_seconds()))


def _sync(*, target: Interaction, source: Interaction, fields: Iterable[str]) -> None:
    if target is source:
        return
    for name in fields:
        setattr(target, name, getattr(source, name))


def _end_reason(*, kind: str, to_status: str) -> str:
    """Why the agent's ownership ends, from the move that ends it."""
    if kind == Kind.OFFER_TIMEOUT:
        return AssignmentEndReason.TIMED_OUT
    if kind == Kind.TRANSFERRED:
        return AssignmentEndReason.TRANSFERRED
    if to_status == S.RESOLVED:
        return AssignmentEndReason.RESOLVED
    if to_status == S.ABANDONED:
        return AssignmentEndReason.ABANDONED
    if to_status == S.QUEUED:
        return AssignmentEndReason.REQUEUED
    return AssignmentEndReason.REASSIGNED


def _record_ownership(
    *, interaction_id: int, from_status: str, to_status: str, old_agent_id, new_agent_id, kind: str, now: datetime
) -> None:
    """Keep ``Assignment`` in step with a move: end the open row when ownership ends, open one when it starts.

    Ownership ends when an owned status is left or the agent changes; it starts when an owned status is
    entered or the agent changes. Accepting stamps the open row. One statement per case, on the
    ``assignment_one_active`` index; the row is ended before a new one opens, so the unique index holds.
    """
    owned_before, owned_after = from_status in OWNED_STATUSES, to_status in OWNED_STATUSES
    agent_changed = old_agent_id != new_agent_id
    if owned_before and (not owned_after or agent_changed):
        Assignment.objects.filter(interaction_id=interaction_id, ended_at__isnull=True).update(
            ended_at=now, end_reason=_end_reason(kind=kind, to_status=to_status)
        )
    if owned_after and (not owned_before or agent_changed):
        Assignment.objects.create(interaction_id=interaction_id, agent_id=new_agent_id, offered_at=now)
    elif owned_before and from_status == S.ASSIGNED and to_status == S.ACTIVE:
        Assignment.objects.filter(interaction_id=interaction_id, ended_at__isnull=True).update(accepted_at=now)


def _move(
    *,
    interaction: Interaction,
    to_status: str,
    kind: str,
    verb: str,
    actor=None,
    stamp: str | None = None,
    only_from: frozenset[str] | None = None,
    allowed_from: frozenset[str] | None = None,
    prepare: Callable[[Interaction, datetime], tuple[dict[str, Any], dict[str, Any]]] | None = None,
    event_names_previous_agent: bool = False,
) -> Interaction:
    """Lock, check, change, log: the one path of every status move after creation.

    ``only_from`` narrows the statuses the move starts from where the table alone is too broad (resuming
    and accepting both lead to active; reopening and re-queueing both lead to queued). ``allowed_from``
    replaces the table for a move that is not a step of the lifecycle (a transfer: on_hold → queued,
    active → assigned).
    ``prepare(locked, now)`` may refuse the move with a ``DomainError`` and returns
    ``(field changes, event data)``. The event names the agent who has the work after the move, or
    the one who had it before with ``event_names_previous_agent`` (an expired offer: who let it expire). Ownership history
    (``Assignment``) follows the status and agent here, so no move can forget it.
    """
    with transaction.atomic():
        locked = Interaction.objects.select_for_update(of=("self",)).select_related("queue").get(pk=interaction.pk)
        from_status, old_agent_id = locked.status, locked.agent_id
        if allowed_from is not None:
            if from_status not in allowed_from:
                allowed = ", ".join(s for s in S.values if s in allowed_from)
                raise IllegalTransition(
                    f"Interaction {locked.pk} is {from_status}; it cannot be {verb}. It can be {verb} from: {allowed}."
                )
        elif to_status not in INTERACTION_TRANSITIONS[from_status] or (only_from and from_status not in only_from):
            raise _illegal(locked.pk, from_status, verb)
        now = timezone.now()
        changes, data = prepare(locked, now) if prepare else ({}, {})
        fields = ["status", "updated_at"]

        handle_field = HANDLE_TIME_FIELDS.get(from_status)
        if handle_field:
            spent = _seconds_in_status(interaction=locked, now=now)
            setattr(locked, handle_field, getattr(locked, handle_field) + spent)
            fields.append(handle_field)
            data = {**data, handle_field: spent}

        locked.status = to_status
        if stamp:
            changes = {stamp: now, **changes}
        for name, value in changes.items():
            setattr(locked, name, value)
            fields.append(name)
        # Every move may start, pause, resume or freeze an SLA clock. A hand-over to another queue keeps the
        # customer's due times (the promise does not change with an internal move), unless it ends a pause.
        if kind not in (Kind.TRANSFERRED, Kind.ESCALATED) or from_status == S.ON_HOLD:
            fields += sla_refresh(interaction=locked, now=now)
        locked.save(update_fields=list(dict.fromkeys(fields)))
        _record_ownership(
            interaction_id=locked.pk,
            from_status=from_status,
            to_status=to_status,
            old_agent_id=old_agent_id,
            new_agent_id=locked.agent_id,
            kind=kind,
            now=now,
        )
        log_event(
            interaction=locked,
            kind=kind,
            from_status=from_status,
            to_status=to_status,
            actor=actor,
            agent_id=old_agent_id if event_names_previous_agent else locked.agent_id,
            at=now,
            data=data,
        )
    _sync(target=interaction, source=locked, fields=fields)
    return locked


# --- creation ---------------------------------------------------------------------------------------


def _clean_tags(tags: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    for tag in tags:
        tag = str(tag).strip()
        if tag and tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise ValidationError({"tags": f"At most {MAX_TAGS} tags."})
    if any(len(tag) > MAX_TAG_LENGTH for tag in cleaned):
        raise ValidationError({"tags": f"A tag has at most {MAX_TAG_LENGTH} characters."})
    return cleaned


def _check_priority(priority: int) -> None:
    if priority not in Priority.values:
        raise ValidationError({"priority": f"Priority must be one of {', '.join(map(str, Priority.values))}."})


def _pick_queue(*, channel: str, queue: Queue | None) -> Queue | None:
    if queue is None:
        return queue_default_for_channel(channel=channel)
    if not queue.is_active:
        raise ValidationError({"queue": f"Queue '{queue}' is not active."})
    if channel not in queue.channels:
        raise ValidationError({"queue": f"Queue '{queue}' does not serve the {channel} channel."})
    return queue


def _follow_up_target(*, customer: Customer, now: datetime) -> Interaction | None:
    """The customer's latest interaction resolved within the follow-up window, if any (a repeat contact)."""
    since = now - timedelta(days=settings.SWITCHBOARD_FOLLOW_UP_DAYS)
    return (
        Interaction.objects.filter(
            customer=customer, status__in=[S.RESOLVED, S.CLOSED], resolved_at__gte=since, resolved_at__lte=now
        )
        .order_by("-resolved_at", "-id")
        .first()
    )


def _violated_constraint(exc: IntegrityError) -> str | None:
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


def interaction_create_inbound(
    *,
    channel: str,
    customer: Customer | None = None,
    customer_identity: Mapping[str, str] | None = None,
    queue: Queue | None = None,
    subject: str = "",
    body: str = "",
    priority: int = Priority.NORMAL,
    external_id: str = "",
    tags: Iterable[str] = (),
    category: str = "",
    actor=None,
    direction: str = Direction.INBOUND,
) -> Interaction:
    """Record a new contact: find the customer, pick the queue, compute due times, queue it.

    The customer is ``customer`` or found (or created) by ``customer_identity`` (``{"address",
    "channel"?, "name"?}``; the channel defaults to the interaction's). The queue is ``queue`` (it
    must serve the channel), else the highest-priority active queue serving the channel, else none
    and the interaction stays ``new``. ``body``, when given, is the first message. A repeat contact
    within ``SWITCHBOARD_FOLLOW_UP_DAYS`` of a resolution links ``follow_up_of``. An ``external_id``
    already used on the channel is a field error (the unique index decides, so concurrent duplicates
    cannot both pass).
    """
    if channel not in Channel.values:
        raise ValidationError({"channel": f"Unknown channel '{channel}'."})
    if direction not in Direction.values:
        raise ValidationError({"direction": f"Unknown direction '{direction}'."})
    _check_priority(priority)
    # imported here: messages builds on this module's event log, so it imports lifecycle at its top
    from .messages import message_check_body, message_create, message_insert

    if (customer is None) == (customer_identity is None):
        raise ValidationError({"customer": "Give exactly one of customer and customer_identity."})
    tags = _clean_tags(tags)
    # checked before anything is written, so an over-long body creates no customer either
    message_check_body(body=body, required=False)

    with transaction.atomic():
        new_customer = False
        if customer is None:
            try:
                customer, new_customer = customer_find_or_create_by_identity(
                    channel=customer_identity.get("channel") or channel,
                    address=customer_identity.get("address", ""),
                    name=customer_identity.get("name", ""),
                )
            except ValidationError as exc:
                raise ValidationError({"customer_identity": exc.messages}) from None
        queue = _pick_queue(channel=channel, queue=queue)
        now = timezone.now()
        interaction = Interaction(
            customer=customer,
            channel=channel,
            direction=direction,
            queue=queue,
            subject=subject,
            status=S.QUEUED if queue else S.NEW,
            priority=priority,
            external_id=external_id,
            tags=tags,
            category=category,
            # a customer created just now has no earlier interaction to follow up
            follow_up_of=None if new_customer else _follow_up_target(customer=customer, now=now),
            created_at=now,
            queued_at=now if queue else None,
        )
        interaction.sla_started_at = now if queue else None
        sla_refresh(interaction=interaction, now=now)
        try:
            # the savepoint lets a duplicate external_id become a field error; without one nothing can clash
            with transaction.atomic() if external_id else nullcontext():
                interaction.save(force_insert=True)
        except IntegrityError as exc:
            if _violated_constraint(exc) == "interaction_external_id_unique":
                raise ValidationError(
                    {"external_id": f"An interaction with external id '{external_id}' already exists on {channel}."}
                ) from None
            raise

        events = [
            _new_event(interaction=interaction, kind=Kind.CREATED, from_status="", to_status=S.NEW, actor=actor, at=now)
        ]
        if queue is not None:
            events.append(
                _new_event(
                    interaction=interaction,
                    kind=Kind.QUEUED,
                    from_status=S.NEW,
                    to_status=S.QUEUED,
                    actor=actor,
                    at=now,
                    data={"queue_id": queue.pk},
                )
            )
        # one INSERT for both; ids (and so the log's order) follow the list's order
        for event in InteractionEvent.objects.bulk_create(events):
            _announce(event)
        if body.strip() and direction == Direction.INBOUND:
            # the customer's first words: the row was inserted just above, so no lock and no first-response stamp
            message_insert(interaction=interaction, direction=MessageDirection.INBOUND, body=body, at=now)
        elif body.strip():
            message_create(interaction=interaction, direction=MessageDirection.OUTBOUND, body=body, author=actor)
    return interaction


# --- moves ------------------------------------------------------------------------------------------


def interaction_assign(*, interaction: Interaction, agent: Agent, actor=None) -> Interaction:
    """Give queued work to ``agent``. Compare-and-set on the status, so of two concurrent assigners one wins.

    The losing caller (or any caller when the interaction is no longer queued) gets ``IllegalTransition``.
    The winner opens the interaction's ``Assignment``. In a queue with ``auto_accept`` nobody has to pick
    the work up (e.g. email), so it is accepted in the same transaction (``accepted`` event, no actor).
    """
    if not agent.is_active:
        raise DomainError(f"Agent {agent.pk} is not active; work cannot be assigned to them.")
    with transaction.atomic():
        now = timezone.now()
        # no SELECT ... FOR UPDATE first: the conditional UPDATE is the lock and the check in one statement
        claimed = Interaction.objects.filter(pk=interaction.pk, status=S.QUEUED).update(
            status=S.ASSIGNED, agent=agent, assigned_at=now, updated_at=now
        )
        if not claimed:
            status = Interaction.objects.filter(pk=interaction.pk).values_list("status", flat=True).first()
            if status is None:
                raise Interaction.DoesNotExist(f"Interaction {interaction.pk} does not exist.")
            raise _illegal(interaction.pk, status, "assigned")
        assigned = Interaction.objects.select_related("queue").get(pk=interaction.pk)
        assigned.agent = agent  # the caller's instance: no query when the agent is read below or by _sync
        Assignment.objects.create(interaction_id=assigned.pk, agent_id=agent.pk, offered_at=now)
        log_event(
            interaction=assigned,
            kind=Kind.ASSIGNED,
            from_status=S.QUEUED,
            to_status=S.ASSIGNED,
            actor=actor,
            agent_id=agent.pk,
            at=now,
        )
        if assigned.queue is not None and assigned.queue.auto_accept:
            assigned = interaction_accept(interaction=assigned)
    _sync(
        target=interaction,
        source=assigned,
        fields=["status", "agent", "assigned_at", "accepted_at", "talk_seconds", "updated_at"],
    )
    return assigned


# One row per (interaction, agent, time); the status condition is the compare-and-set of every pair at once.
_ASSIGN_MANY_SQL = """
    UPDATE {interaction} i
    SET status = %(assigned)s, agent_id = v.agent_id, assigned_at = v.at, updated_at = v.at
    FROM unnest(%(ids)s::bigint[], %(agents)s::bigint[], %(ats)s::timestamptz[]) AS v(id, agent_id, at)
    WHERE i.id = v.id AND i.status = %(queued)s
    RETURNING i.id
"""


def interaction_assign_many(*, pairs: Sequence[tuple[Interaction, Agent]], actor=None) -> list[Interaction]:
    """``interaction_assign`` for many (interaction, agent) pairs in one transaction: a router's batch.

    The same steps and the same rows as one ``interaction_assign`` after another (ownership history, the
    ``assigned`` event and, in ``auto_accept`` queues, the ``accepted`` one, the webhook outbox, one
    ``interaction_changed`` per event on commit), in a fixed number of statements instead of about seven per
    interaction. The compare-and-set covers every pair in one UPDATE: an interaction no longer queued (another
    assigner won it) is left out of the result instead of raising, since the others are still good to assign.
    The pairs are stamped one microsecond apart in the given order, as one assignment after another would be,
    so "idle since the last assignment" ranks the agents as the router planned. The ``interaction_changed``
    signals carry ``batch`` (every change of the commit, in order) and ``batch_index``, so a receiver may handle
    them together (``crm.events`` publishes them with one read). Returns the assigned interactions in the
    given order; the given instances are refreshed as by the single path.
    """
    if not pairs:
        return []
    for _, agent in pairs:
        if not agent.is_active:
            raise DomainError(f"Agent {agent.pk} is not active; work cannot be assigned to them.")
    ids = [interaction.pk for interaction, _ in pairs]
    if len(set(ids)) != len(ids):
        raise ValueError("An interaction can be assigned once per call.")
    with transaction.atomic():
        start = timezone.now()
        ats = [start + timedelta(microseconds=index) for index in range(len(pairs))]
        at_of = dict(zip(ids, ats, strict=True))
        with connection.cursor() as cursor:
            cursor.execute(
                _ASSIGN_MANY_SQL.format(interaction=Interaction._meta.db_table),
                {
                    "assigned": S.ASSIGNED,
                    "queued": S.QUEUED,
                    "ats": ats,
                    "ids": ids,
                    "agents": [agent.pk for _, agent in pairs],
                },
            )
            won = {row[0] for row in cursor.fetchall()}
        if not won:
            return []
        rows = Interaction.objects.select_related("queue").in_bulk(sorted(won))
        winners: list[tuple[Interaction, Interaction, Agent]] = []
        for interaction, agent in pairs:
            if interaction.pk in won:
                assigned = rows[interaction.pk]
                assigned.agent = agent  # the caller's instance: no query when the agent is read later
                winners.append((interaction, assigned, agent))
        accepting = [a for _, a, _ in winners if a.queue is not None and a.queue.auto_accept]
        fields = ["status", "accepted_at", "updated_at"]
        for assigned in accepting:
            # the row is locked by the UPDATE above, so the accept needs no lock of its own; as in _move,
            # accepting may start SLA clocks
            now = at_of[assigned.pk]
            assigned.status, assigned.accepted_at = S.ACTIVE, now
            fields += sla_refresh(interaction=assigned, now=now)
        if accepting:
            Interaction.objects.bulk_update(accepting, fields=list(dict.fromkeys(fields)))
        Assignment.objects.bulk_create(
            Assignment(
                interaction_id=assigned.pk,
                agent_id=agent.pk,
                offered_at=at_of[assigned.pk],
                accepted_at=at_of[assigned.pk] if assigned.status == S.ACTIVE else None,
            )
            for _, assigned, agent in winners
        )
        events = []
        for _, assigned, agent in winners:
            events.append(
                _new_event(
                    interaction=assigned,
                    kind=Kind.ASSIGNED,
                    from_status=S.QUEUED,
                    to_status=S.ASSIGNED,
                    actor=actor,
                    agent_id=agent.pk,
                    at=at_of[assigned.pk],
                )
            )
            if assigned.status == S.ACTIVE:
                events.append(
                    _new_event(
                        interaction=assigned,
                        kind=Kind.ACCEPTED,
                        from_status=S.ASSIGNED,
                        to_status=S.ACTIVE,
                        agent_id=agent.pk,
                        at=at_of[assigned.pk],
                    )
                )
        saved = InteractionEvent.objects.bulk_create(events)
        _write_outboxes_many(saved)
        _announce_batch(saved)
    for interaction, assigned, _ in winners:
        _sync(
            target=interaction,
            source=assigned,
            fields=["status", "agent", "assigned_at", "accepted_at", "talk_seconds", "updated_at"],
        )
    return [assigned for _, assigned, _ in winners]


def interaction_accept(*, interaction: Interaction, agent: Agent | None = None, actor=None) -> Interaction:
    """The assigned agent takes the work: assigned → active. ``agent``, when given, must be the assigned one."""

    def prepare(locked: Interaction, now: datetime):
        if agent is not None and locked.agent_id != agent.pk:
            raise DomainError(
                f"Interaction {locked.pk} is assigned to another agent; only they can accept it.", code="not_assignee"
            )
        return {}, {}

    return _move(
        interaction=interaction,
        to_status=S.ACTIVE,
        kind=Kind.ACCEPTED,
        verb="accepted",
        actor=actor,
        stamp="accepted_at",
        only_from=frozenset({S.ASSIGNED}),
        prepare=prepare,
    )


def interaction_hold(*, interaction: Interaction, actor=None) -> Interaction:
    """active → on_hold; the time since the last step counts as talk time."""
    return _move(interaction=interaction, to_status=S.ON_HOLD, kind=Kind.HELD, verb="put on hold", actor=actor)


def interaction_resume(*, interaction: Interaction, actor=None) -> Interaction:
    """on_hold → active; the time on hold counts as hold time."""
    return _move(
        interaction=interaction,
        to_status=S.ACTIVE,
        kind=Kind.RESUMED,
        verb="resumed",
        actor=actor,
        only_from=frozenset({S.ON_HOLD}),
    )


def interaction_wrap_up(*, interaction: Interaction, actor=None) -> Interaction:
    """active → wrap_up: the customer is gone, the agent finishes the paperwork."""
    return _move(interaction=interaction, to_status=S.WRAP_UP, kind=Kind.WRAP_UP, verb="wrapped up", actor=actor)


def interaction_resolve(
    *, interaction: Interaction, actor=None, disposition: str = "", category: str = ""
) -> Interaction:
    """active or wrap_up → resolved, with the outcome (``disposition``) and, if given, a ``category``."""

    def prepare(locked: Interaction, now: datetime):
        changes = {"disposition": disposition}
        if category:
            changes["category"] = category
        return changes, {"disposition": disposition}

    return _move(
        interaction=interaction,
        to_status=S.RESOLVED,
        kind=Kind.RESOLVED,
        verb="resolved",
        actor=actor,
        stamp="resolved_at",
        prepare=prepare,
    )


def interaction_close(*, interaction: Interaction, actor=None) -> Interaction:
    """resolved → closed: final, nothing more happens to it."""
    return _move(
        interaction=interaction, to_status=S.CLOSED, kind=Kind.CLOSED, verb="closed", actor=actor, stamp="closed_at"
    )


def interaction_abandon(*, interaction: Interaction, actor=None) -> Interaction:
    """The customer left before being served (new, queued, assigned or on hold) → abandoned."""
    return _move(
        interaction=interaction,
        to_status=S.ABANDONED,
        kind=Kind.ABANDONED,
        verb="abandoned",
        actor=actor,
        stamp="abandoned_at",
    )


def interaction_reopen(*, interaction: Interaction, actor=None) -> Interaction:
    """resolved → queued: back to its queue without an agent; the old resolution time is kept in the event."""

    def prepare(locked: Interaction, now: datetime):
        if locked.queue_id is None:
            raise DomainError(f"Interaction {locked.pk} has no queue to return to; it cannot be reopened.")
        data = {
            "resolved_at": locked.resolved_at.isoformat() if locked.resolved_at else None,
            "previous_agent_id": locked.agent_id,
        }
        # the customer's clock starts again: a new run of the first-response and resolution clocks
        changes = {"agent": None, "resolved_at": None, "queued_at": now, "sla_started_at": now}
        return changes | {"next_response_from": None}, data

    return _move(
        interaction=interaction,
        to_status=S.QUEUED,
        kind=Kind.REOPENED,
        verb="reopened",
        actor=actor,
        only_from=frozenset({S.RESOLVED}),
        prepare=prepare,
    )


def interaction_offer_timeout(*, interaction: Interaction, actor=None) -> Interaction:
    """assigned → queued because the agent did not accept the offer in time (``crm.services.offers``).

    The work goes back without an agent but keeps ``queued_at``, so it keeps its place by age. The
    ``offer_timeout`` event names the agent who let it expire; their assignment ends as ``timed_out``.
    """

    def prepare(locked: Interaction, now: datetime):
        timeout = locked.queue.accept_timeout_seconds if locked.queue else None
        return {"agent": None}, {"agent_id": locked.agent_id, "accept_timeout_seconds": timeout}

    return _move(
        interaction=interaction,
        to_status=S.QUEUED,
        kind=Kind.OFFER_TIMEOUT,
        verb="returned to its queue for want of an answer",
        actor=actor,
        only_from=frozenset({S.ASSIGNED}),
        prepare=prepare,
        event_names_previous_agent=True,
    )


# A transfer starts from work an agent holds; wrap-up is after the customer left, so there is nothing to hand over.
TRANSFER_FROM = frozenset({S.ASSIGNED, S.ACTIVE, S.ON_HOLD})


def _lock_transfer_agent(*, agent: Agent, interaction: Interaction) -> Agent:
    """Lock the receiving agent's row (as the router does) and check, under it, that they can take the work."""
    from .routing import agent_has_room  # the router builds on this module, so it is imported here

    if agent.pk == interaction.agent_id:
        raise DomainError(
            f"Interaction {interaction.pk} is already with agent {agent.pk}; transfer it to someone else.",
            code="same_agent",
        )
    locked = Agent.objects.select_for_update().filter(pk=agent.pk).first()
    if locked is None or not locked.is_active:
        raise DomainError(f"Agent {agent.pk} is not active; work cannot be transferred to them.", code="agent_inactive")
    if locked.status != AgentStatus.AVAILABLE:
        raise DomainError(
            f"Agent {agent.pk} is {locked.status}; work can only be transferred to an available agent.",
            code="agent_unavailable",
        )
    if not agent_has_room(agent=locked, channel=interaction.channel):
        raise DomainError(
            f"Agent {agent.pk} has no room for another {interaction.channel} interaction.", code="agent_full"
        )
    return locked


def interaction_transfer(
    *,
    interaction: Interaction,
    actor=None,
    to_queue: Queue | None = None,
    to_agent: Agent | None = None,
    note: str = "",
) -> Interaction:
    """Hand work an agent holds (assigned, active or on hold) to another queue or another agent.

    Exactly one of ``to_queue`` and ``to_agent``. To a queue (active, serving the channel): back to
    ``queued`` there without an agent; ``queued_at`` restarts, since the wait in the new queue (its
    order, its answer time) starts now, while ``created_at`` and the SLA due times stay: the customer's
    clock does not restart because of an internal hand-over. To an agent: ``assigned`` to them, checked
    under their row lock like the router's own assignments (active, ``available``, room on the channel;
    else ``DomainError``); they accept it as any assignment. Time spent active or on hold counts as talk
    or hold time. The note becomes an internal message when a user acts (an API key writes none); the
    ``transferred`` event keeps it either way, with the queues and agents before and after. Handed to an
    agent in an ``auto_accept`` queue, the work is accepted in the same transaction.
    """
    if (to_queue is None) == (to_agent is None):
        raise ValidationError({"queue": "Give exactly one of a queue and an agent to transfer to."})
    # imported here: messages builds on this module's event log, so it imports lifecycle at its top
    from .messages import message_check_body, message_insert

    note = note or ""
    try:
        message_check_body(body=note, required=False)
    except ValidationError as exc:
        raise ValidationError({"note": exc.messages}) from None

    def prepare(locked: Interaction, now: datetime):
        data: dict[str, Any] = {"from_queue": locked.queue_id, "from_agent": locked.agent_id}
        if to_queue is not None:
            queue = _pick_queue(channel=locked.channel, queue=to_queue)
            changes: dict[str, Any] = {"queue": queue, "agent": None, "queued_at": now}
            data |= {"to_queue": queue.pk, "to_agent": None}
        else:
            agent = _lock_transfer_agent(agent=to_agent, interaction=locked)
            changes = {"agent": agent, "assigned_at": now}
            data |= {"to_queue": locked.queue_id, "to_agent": agent.pk}
        data["note"] = note
        if note.strip() and actor is not None:
            message = message_insert(
                interaction=locked, direction=MessageDirection.INTERNAL, body=note, author=actor, at=now
            )
            data["message_id"] = message.pk
        return changes, data

    with transaction.atomic():
        moved = _move(
            interaction=interaction,
            to_status=S.QUEUED if to_queue is not None else S.ASSIGNED,
            kind=Kind.TRANSFERRED,
            verb="transferred",
            actor=actor,
            allowed_from=TRANSFER_FROM,
            prepare=prepare,
        )
        if moved.status == S.ASSIGNED and moved.queue is not None and moved.queue.auto_accept:
            moved = interaction_accept(interaction=moved)
    _sync(target=interaction, source=moved, fields=["status", "accepted_at", "updated_at"])
    return moved


def interaction_update(
    *,
    interaction: Interaction,
    actor=None,
    subject: str = UNSET,
    priority: int = UNSET,
    tags: Iterable[str] = UNSET,
    category: str = UNSET,
) -> Interaction:
    """Change the descriptive fields; only the ones passed. A new priority recomputes the due times.

    Logs one ``updated`` event with the old and new values of what changed (nothing changed: no event).
    """
    requested: dict[str, Any] = {}
    if subject is not UNSET:
        requested["subject"] = subject
    if priority is not UNSET:
        _check_priority(priority)
        requested["priority"] = priority
    if tags is not UNSET:
        requested["tags"] = _clean_tags(tags)
    if category is not UNSET:
        requested["category"] = category

    with transaction.atomic():
        locked = Interaction.objects.select_for_update(of=("self",)).select_related("queue").get(pk=interaction.pk)
        changed = {name: value for name, value in requested.items() if getattr(locked, name) != value}
        if not changed:
            return locked
        data = {name: {"from": getattr(locked, name), "to": value} for name, value in changed.items()}
        for name, value in changed.items():
            setattr(locked, name, value)
        fields = [*changed, "updated_at"]
        if "priority" in changed and locked.is_open:
            fields += sla_refresh(interaction=locked, now=timezone.now())
        locked.save(update_fields=fields)
        log_event(
            interaction=locked,
            kind=Kind.UPDATED,
            from_status=locked.status,
            to_status=locked.status,
            actor=actor,
            agent_id=locked.agent_id,
            at=timezone.now(),
            data=data,
        )
    _sync(target=interaction, source=locked, fields=fields)
    return locked


def interaction_escalate(*, interaction: Interaction, to_queue: Queue, actor=None, note: str = "") -> Interaction:
    """Move queued work to another queue (an SLA escalation step, or a supervisor): queued → queued there.

    Unlike a transfer it starts from the queue, not from an agent. The interaction keeps its place by age
    (``queued_at`` stays, as in an overflow) and its SLA clocks; the ``escalated`` event names both queues,
    and the move asks for a routing run like any entry into a queue.
    """

    def prepare(locked: Interaction, now: datetime):
        queue = _pick_queue(channel=locked.channel, queue=to_queue)
        if queue.pk == locked.queue_id:
            raise DomainError(f"Interaction {locked.pk} is already in queue '{queue}'.", code="same_queue")
        return {"queue": queue}, {"from_queue": locked.queue_id, "to_queue": queue.pk, "note": note}

    return _move(
        interaction=interaction,
        to_status=S.QUEUED,
        kind=Kind.ESCALATED,
        verb="escalated",
        actor=actor,
        allowed_from=frozenset({S.QUEUED}),
        prepare=prepare,
    )
