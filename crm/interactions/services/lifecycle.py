"""The moves of an interaction's lifecycle after creation and assignment: accept, hold, resume, wrap up, resolve,
close, abandon, reopen, expire an offer, and changes of its descriptive fields.

Each goes through ``transition`` (``crm.interactions.services.transitions``): lock, check, change, log; once the
transaction commits, ``crm.interactions.signals.interaction_changed`` is sent. The services return the updated
interaction and also refresh the fields they changed on the instance they were given, so a caller holding it
does not read stale values. Creation is in ``intake``, assignment in ``assignment``, transfers and escalations
in ``handover``.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Agent
from config.audit import audit_known_before, audit_row_read
from config.errors import DomainError
from config.rows import row_save_fields
from crm.choices import InteractionEventKind, InteractionStatus

from ..hooks import Move, run_interaction_saving
from ..models import Interaction
from .eventlog import log_event
from .intake import check_priority, clean_tags, pick_queue
from .transitions import LOCK_WITH_QUEUE, sync, transition

S = InteractionStatus
Kind = InteractionEventKind


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


def interaction_accept(*, interaction: Interaction, agent: Agent | None = None, actor=None) -> Interaction:
    """The assigned agent takes the work: assigned → active. ``agent``, when given, must be the assigned one."""

    def prepare(locked: Interaction, now: datetime):
        if agent is not None and locked.agent_id != agent.pk:
            raise DomainError(
                _("Interaction %(pk)s is assigned to another agent; only they can accept it.") % {"pk": locked.pk},
                code="not_assignee",
            )
        return {}, {}

    return transition(
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
    return transition(interaction=interaction, to_status=S.ON_HOLD, kind=Kind.HELD, verb="put on hold", actor=actor)


def interaction_resume(*, interaction: Interaction, actor=None) -> Interaction:
    """on_hold → active; the time on hold counts as hold time."""
    return transition(
        interaction=interaction,
        to_status=S.ACTIVE,
        kind=Kind.RESUMED,
        verb="resumed",
        actor=actor,
        only_from=frozenset({S.ON_HOLD}),
    )


def interaction_wrap_up(*, interaction: Interaction, actor=None) -> Interaction:
    """active → wrap_up: the customer is gone, the agent finishes the paperwork."""
    return transition(interaction=interaction, to_status=S.WRAP_UP, kind=Kind.WRAP_UP, verb="wrapped up", actor=actor)


def interaction_resolve(
    *, interaction: Interaction, actor=None, disposition: str = "", category: str = ""
) -> Interaction:
    """active or wrap_up → resolved, with the outcome (``disposition``) and, if given, a ``category``."""

    def prepare(locked: Interaction, now: datetime):
        changes = {"disposition": disposition}
        if category:
            changes["category"] = category
        return changes, {"disposition": disposition}

    return transition(
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
    return transition(
        interaction=interaction, to_status=S.CLOSED, kind=Kind.CLOSED, verb="closed", actor=actor, stamp="closed_at"
    )


def interaction_abandon(*, interaction: Interaction, actor=None) -> Interaction:
    """The customer left before being served (new, queued, assigned or on hold) → abandoned."""
    return transition(
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
            raise DomainError(
                _("Interaction %(pk)s has no queue to return to; it cannot be reopened.") % {"pk": locked.pk}
            )
        data = {
            "resolved_at": locked.resolved_at.isoformat() if locked.resolved_at else None,
            "previous_agent_id": locked.agent_id,
        }
        # the customer's clock starts again: a new run of the first-response and resolution clocks
        changes = {"agent": None, "resolved_at": None, "queued_at": now, "sla_started_at": now}
        return changes | {"next_response_from": None}, data

    return transition(
        interaction=interaction,
        to_status=S.QUEUED,
        kind=Kind.REOPENED,
        verb="reopened",
        actor=actor,
        only_from=frozenset({S.RESOLVED}),
        prepare=prepare,
    )


def interaction_enqueue(*, interaction: Interaction, queue: Model | None = None, actor=None) -> Interaction:
    """new → queued: work that waited outside any queue (a call in its IVR menu) joins ``queue``, else the one
    picked for its channel; its wait and its SLA clocks start now."""

    def prepare(locked: Interaction, now: datetime):
        target = pick_queue(channel=locked.channel, queue=queue)
        if target is None:
            raise DomainError(
                _("No active queue serves the %(channel)s channel; interaction %(pk)s waits.")
                % {"channel": locked.channel, "pk": locked.pk}
            )
        return {"queue": target, "queued_at": now, "sla_started_at": now}, {"queue_id": target.pk}

    return transition(
        interaction=interaction,
        to_status=S.QUEUED,
        kind=Kind.QUEUED,
        verb="queued",
        actor=actor,
        only_from=frozenset({S.NEW}),
        prepare=prepare,
    )


def interaction_self_served(*, interaction: Interaction, actor=None) -> Interaction:
    """new → closed: the customer was served before reaching a queue (a call that ended in its IVR menu: checked a
    balance, heard opening hours). Neither answered nor abandoned; the reports count it as contained."""
    return transition(
        interaction=interaction,
        to_status=S.CLOSED,
        kind=Kind.CLOSED,
        verb="closed as self-served",
        actor=actor,
        allowed_from=frozenset({S.NEW}),
        prepare=lambda locked, now: ({}, {"self_service": True}),
    )


def _back_to_queue(*, interaction: Interaction, kind: str, verb: str, data, actor) -> Interaction:
    """assigned → queued without an agent, keeping ``queued_at`` (and so the place by age); the event names the
    agent the offer was made to, with ``data(locked)`` added."""

    def prepare(locked: Interaction, now: datetime):
        return {"agent": None}, {"agent_id": locked.agent_id, **data(locked)}

    return transition(
        interaction=interaction,
        to_status=S.QUEUED,
        kind=kind,
        verb=verb,
        actor=actor,
        only_from=frozenset({S.ASSIGNED}),
        prepare=prepare,
        event_names_previous_agent=True,
    )


def interaction_offer_timeout(*, interaction: Interaction, actor=None) -> Interaction:
    """assigned → queued because the agent did not accept the offer in time (``crm.routing.services.offers``).

    The work goes back without an agent but keeps ``queued_at``, so it keeps its place by age. The
    ``offer_timeout`` event names the agent who let it expire; their assignment ends as ``timed_out``.
    """
    return _back_to_queue(
        interaction=interaction,
        kind=Kind.OFFER_TIMEOUT,
        verb="returned to its queue for want of an answer",
        data=lambda locked: {"accept_timeout_seconds": locked.queue.accept_timeout_seconds if locked.queue else None},
        actor=actor,
    )


def interaction_offer_withdraw(*, interaction: Interaction, actor=None) -> Interaction:
    """assigned → queued because the agent it was offered to is no longer there (``crm.presence``).

    Like an offer timeout, the work keeps ``queued_at`` and so its place by age; the ``offer_withdrawn`` event
    names the agent, whose assignment ends as ``requeued``.
    """
    return _back_to_queue(
        interaction=interaction,
        kind=Kind.OFFER_WITHDRAWN,
        verb="returned to its queue: the agent's console was gone",
        data=lambda locked: {"reason": "disconnected"},
        actor=actor,
    )


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
        check_priority(priority)
        requested["priority"] = priority
    if tags is not UNSET:
        requested["tags"] = clean_tags(tags)
    if category is not UNSET:
        requested["category"] = category

    with transaction.atomic():
        locked = LOCK_WITH_QUEUE.get(interaction.pk)
        read = audit_row_read(locked)  # as locked: the audit trail need not read the row again before the save
        changed = {name: value for name, value in requested.items() if getattr(locked, name) != value}
        if not changed:
            return locked
        data = {name: {"from": getattr(locked, name), "to": value} for name, value in changed.items()}
        for name, value in changed.items():
            setattr(locked, name, value)
        fields = [*changed, "updated_at"]
        # a new priority may pick another SLA target: the concerns recompute what follows from the change
        fields += run_interaction_saving(
            interaction=locked,
            move=Move(
                kind=Kind.UPDATED,
                from_status=locked.status,
                to_status=locked.status,
                changed=frozenset(changed),
                now=timezone.now(),
            ),
        )
        with audit_known_before(locked, read):
            row_save_fields(locked, fields)  # as a status move saves (transitions.transition)
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
    sync(target=interaction, source=locked, fields=fields)
    return locked
