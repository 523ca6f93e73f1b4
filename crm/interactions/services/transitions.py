"""The one path of every status move after creation: lock, check, change, log (``transition``).

Each move locks the row, checks ``INTERACTION_TRANSITIONS``, stamps the step's timestamp, adds the time spent
in the state it leaves to the handle-time parts, calls the ``interaction_saving`` hook (SLA due times), keeps
the ownership history (``Assignment``) in step and appends one ``InteractionEvent``. A move the lifecycle
does not allow raises ``IllegalTransition`` and changes nothing.
"""

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from config.audit import audit_known_before, audit_row_read
from config.errors import IllegalTransition
from config.raw_rows import LockedRow
from config.rows import row_save_fields
from crm.choices import (
    INTERACTION_TRANSITIONS,
    OWNED_STATUSES,
    AssignmentEndReason,
    InteractionEventKind,
    InteractionStatus,
)

from ..hooks import Move, run_interaction_saving
from ..models import Assignment, Interaction, InteractionEvent
from .eventlog import log_event

# An interaction under its row lock with its queue, from a statement built once (config.raw_rows)
LOCK_WITH_QUEUE = LockedRow(Interaction, related=("queue",))

S = InteractionStatus
Kind = InteractionEventKind

# Leaving one of these states adds the time spent in it to this handle-time field.
HANDLE_TIME_FIELDS = {S.ACTIVE: "talk_seconds", S.ON_HOLD: "hold_seconds", S.WRAP_UP: "wrap_up_seconds"}


def _allowed_text(status: str) -> str:
    allowed = [s for s in S.values if s in INTERACTION_TRANSITIONS[status]]
    return ", ".join(allowed) if allowed else "none"


def illegal(interaction_id: int, status: str, verb: str) -> IllegalTransition:
    return IllegalTransition(
        _(
            "Interaction %(interaction_id)s is %(status)s; it cannot be %(verb)s. Allowed from %(status2)s: %(allowed_text)s."
        )
        % {
            "interaction_id": interaction_id,
            "status": status,
            "verb": verb,
            "status2": status,
            "allowed_text": _allowed_text(status),
        }
    )


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


def sync(*, target: Interaction, source: Interaction, fields: Iterable[str]) -> None:
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


def transition(
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
    the one who had it before with ``event_names_previous_agent`` (an expired offer: who let it expire). Ownership
    history (``Assignment``) follows the status and agent here, so no move can forget it.
    """
    with transaction.atomic():
        locked = LOCK_WITH_QUEUE.get(interaction.pk)
        read = audit_row_read(locked)  # as locked: the audit trail need not read the row again before the save
        from_status, old_agent_id = locked.status, locked.agent_id
        if allowed_from is not None:
            if from_status not in allowed_from:
                allowed = ", ".join(s for s in S.values if s in allowed_from)
                raise IllegalTransition(
                    _(
                        "Interaction %(pk)s is %(from_status)s; it cannot be %(verb)s. It can be %(verb2)s from: %(allowed)s."
                    )
                    % {"pk": locked.pk, "from_status": from_status, "verb": verb, "verb2": verb, "allowed": allowed}
                )
        elif to_status not in INTERACTION_TRANSITIONS[from_status] or (only_from and from_status not in only_from):
            raise illegal(locked.pk, from_status, verb)
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
        # every move may start, pause, resume or freeze an SLA clock: the concerns set what follows from it
        fields += run_interaction_saving(
            interaction=locked,
            move=Move(kind=kind, from_status=from_status, to_status=to_status, changed=frozenset(fields), now=now),
        )
        with audit_known_before(locked, read):
            row_save_fields(locked, fields)  # the UPDATE from a statement built once per field list
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
    sync(target=interaction, source=locked, fields=fields)
    return locked
