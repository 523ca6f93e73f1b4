"""Offer timeouts ("redirect on no answer"): work offered to an agent who does not accept it goes back.

An interaction is *offered* while ``assigned``. When its queue has ``accept_timeout_seconds`` and the offer
is older than that, the sweep returns it to its queue without an agent. ``queued_at`` is kept, so the work
keeps its place by age and is first in line again rather than starting over behind later arrivals. The
agent who let it expire is set to ``not_ready`` (if still available or busy): someone away from the desk
would otherwise be offered the next piece of work and let that expire too.

Concurrency: each expired offer is claimed in its own short transaction with ``FOR UPDATE SKIP LOCKED``
and re-checked under the lock, so concurrent sweeps (and an agent accepting at the last moment) never
move one offer twice: whoever holds the row decides, and the other sees it no longer ``assigned``.
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import DurationField, ExpressionWrapper, F, QuerySet, Value
from django.utils import timezone

from agents.choices import AgentStatus
from agents.models import Agent
from agents.services import agent_set_status
from crm.choices import InteractionStatus
from crm.interactions.models import Interaction
from crm.interactions.services.lifecycle import interaction_offer_timeout

from .triggers import request_routing

logger = logging.getLogger(__name__)

S = InteractionStatus
# An agent in one of these is sent to not_ready when an offer to them expires (on break or offline: leave it).
NOT_READY_FROM = frozenset({AgentStatus.AVAILABLE, AgentStatus.BUSY})


def _expired_offers(*, now: datetime) -> QuerySet:
    """Offers older than their queue's accept timeout (the partial index ``interaction_offer_open`` holds offers)."""
    timeout = ExpressionWrapper(F("queue__accept_timeout_seconds") * Value(timedelta(seconds=1)), DurationField())
    return (
        Interaction.objects.filter(
            status=S.ASSIGNED,
            queue__accept_timeout_seconds__isnull=False,
            # no timeout is under one second: this bound lets the index skip the offers made just now
            assigned_at__lte=now - timedelta(seconds=1),
        )
        .alias(expires_at=F("assigned_at") + timeout)
        .filter(expires_at__lte=now)
    )


def _expire_one(*, interaction_id: int, now: datetime) -> bool:
    """Return one expired offer to its queue, in its own transaction; False if it is gone or locked."""
    with transaction.atomic():
        claimed = (
            _expired_offers(now=now)
            .select_for_update(skip_locked=True, of=("self",))
            .filter(pk=interaction_id)
            .values_list("pk", "agent_id", "queue__accept_timeout_seconds")
            .first()
        )
        if claimed is None:  # accepted, moved or expired by another sweep meanwhile, or being handled now
            return False
        pk, agent_id, timeout = claimed
        interaction = interaction_offer_timeout(interaction=Interaction(pk=pk))
        if agent_id is not None:
            _agent_not_ready(agent_id=agent_id, interaction=interaction, timeout=timeout)
    return True


def _agent_not_ready(*, agent_id: int, interaction: Interaction, timeout: int) -> None:
    agent = Agent.objects.filter(pk=agent_id).only("pk", "status").first()
    if agent is None or agent.status not in NOT_READY_FROM:
        return
    agent_set_status(
        agent=agent,
        status=AgentStatus.NOT_READY,
        reason=f"Did not accept interaction {interaction.pk} within {timeout} s",
    )


def offer_timeouts_expire(*, now: datetime | None = None, limit: int = 500) -> int:
    """Return up to ``limit`` expired offers, oldest first, to their queues; returns how many moved.

    Each logs an ``offer_timeout`` event naming the agent and ends their ``Assignment`` as ``timed_out``;
    the agent goes ``not_ready`` with the reason in their status log. When anything moved, one routing run
    is requested (the receivers leave offer-timeout events to this request). Safe to run concurrently.
    """
    now = now or timezone.now()
    due = list(_expired_offers(now=now).order_by("assigned_at", "id").values_list("pk", flat=True)[:limit])
    moved = sum(_expire_one(interaction_id=pk, now=now) for pk in due)
    if moved:
        logger.info("offers: %d offer(s) expired and went back to their queues", moved)
        request_routing(reason=f"{moved} offer(s) expired")
    return moved
