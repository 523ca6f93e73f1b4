"""Handing work on: to another queue or agent (``interaction_transfer``), or queued work to another queue
(``interaction_escalate``, an SLA escalation step or a supervisor)."""

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils.translation import gettext as _

from agents.choices import AgentStatus
from agents.models import Agent
from config.errors import DomainError
from crm.choices import InteractionEventKind, InteractionStatus, MessageDirection

from ..models import Interaction
from ..selectors import agent_has_room
from .intake import pick_queue
from .lifecycle import interaction_accept
from .messages import message_check_body, message_insert
from .transitions import sync, transition

S = InteractionStatus
Kind = InteractionEventKind

# A transfer starts from work an agent holds; wrap-up is after the customer left, so there is nothing to hand over.
TRANSFER_FROM = frozenset({S.ASSIGNED, S.ACTIVE, S.ON_HOLD})


def _lock_transfer_agent(*, agent: Agent, interaction: Interaction) -> Agent:
    """Lock the receiving agent's row (as the router does) and check, under it, that they can take the work."""
    if agent.pk == interaction.agent_id:
        raise DomainError(
            _("Interaction %(pk)s is already with agent %(pk2)s; transfer it to someone else.")
            % {"pk": interaction.pk, "pk2": agent.pk},
            code="same_agent",
        )
    locked = Agent.objects.select_for_update().filter(pk=agent.pk).first()
    if locked is None or not locked.is_active:
        raise DomainError(
            _("Agent %(pk)s is not active; work cannot be transferred to them.") % {"pk": agent.pk},
            code="agent_inactive",
        )
    if locked.status != AgentStatus.AVAILABLE:
        raise DomainError(
            _("Agent %(pk)s is %(status)s; work can only be transferred to an available agent.")
            % {"pk": agent.pk, "status": locked.status},
            code="agent_unavailable",
        )
    if not agent_has_room(agent=locked, channel=interaction.channel):
        raise DomainError(
            _("Agent %(pk)s has no room for another %(channel)s interaction.")
            % {"pk": agent.pk, "channel": interaction.channel},
            code="agent_full",
        )
    return locked


def interaction_transfer(
    *,
    interaction: Interaction,
    actor=None,
    to_queue: Model | None = None,
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
        raise ValidationError({"queue": _("Give exactly one of a queue and an agent to transfer to.")})
    note = note or ""
    try:
        message_check_body(body=note, required=False)
    except ValidationError as exc:
        raise ValidationError({"note": exc.messages}) from None

    def prepare(locked: Interaction, now: datetime):
        data: dict[str, Any] = {"from_queue": locked.queue_id, "from_agent": locked.agent_id}
        if to_queue is not None:
            queue = pick_queue(channel=locked.channel, queue=to_queue)
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
        moved = transition(
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
    sync(target=interaction, source=moved, fields=["status", "accepted_at", "updated_at"])
    return moved


def interaction_escalate(*, interaction: Interaction, to_queue: Model, actor=None, note: str = "") -> Interaction:
    """Move queued work to another queue (an SLA escalation step, or a supervisor): queued → queued there.

    Unlike a transfer it starts from the queue, not from an agent. The interaction keeps its place by age
    (``queued_at`` stays, as in an overflow) and its SLA clocks; the ``escalated`` event names both queues,
    and the move asks for a routing run like any entry into a queue.
    """

    def prepare(locked: Interaction, now: datetime):
        queue = pick_queue(channel=locked.channel, queue=to_queue)
        if queue.pk == locked.queue_id:
            raise DomainError(
                _("Interaction %(pk)s is already in queue '%(queue)s'.") % {"pk": locked.pk, "queue": queue},
                code="same_queue",
            )
        return {"queue": queue}, {"from_queue": locked.queue_id, "to_queue": queue.pk, "note": note}

    return transition(
        interaction=interaction,
        to_status=S.QUEUED,
        kind=Kind.ESCALATED,
        verb="escalated",
        actor=actor,
        allowed_from=frozenset({S.QUEUED}),
        prepare=prepare,
    )
