"""The router (ACD): give queued interactions to the best free agent, safely from many processes at once.

Order of work: the queue's priority, then the interaction's priority plus an ageing boost (one step per
``SWITCHBOARD_ROUTING_AGEING_MINUTES`` waited, so low priority never starves), then the oldest.
Choice of agent: available, active, every skill the queue requires at its minimum level, spare capacity
on the interaction's channel (an owned voice call blocks all other work); then the highest total level
in the queue's skills, then the agent idle longest (since their last assignment or status change), which
spreads work round-robin over equally qualified agents.

Concurrency: each attempt is one transaction that claims the interaction with ``FOR UPDATE SKIP LOCKED``
and then the agent row the same way: an interaction or an agent locked by another router is being
handled by it, so this one moves on instead of waiting. Under the agent's lock the agent's owned work is
counted again (the candidate query ran without locks), and the assignment itself is
``lifecycle.interaction_assign``, a compare-and-set, so the event log and signals have one path.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import (
    Count,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, Extract, Greatest
from django.utils import timezone

from agents.choices import AgentStatus
from agents.models import Agent, AgentSkill
from agents.selectors import skill_certified_q
from config.choices import Channel

from ..choices import OWNED_STATUSES, InteractionStatus
from ..models import Interaction, Queue, QueueSkill
from .lifecycle import interaction_assign

logger = logging.getLogger(__name__)

S = InteractionStatus
OWNED = sorted(OWNED_STATUSES)
# Queued interactions read per round; each is then claimed one at a time.
WINDOW = 50
# Agents tried per interaction before it is left to the next run (they were all locked by other routers).
AGENT_CANDIDATES = 10


@dataclass
class _Run:
    """What one routing run has learnt, so it does not ask the same question twice."""

    # (queue_id, channel) pairs no agent can take now: their interactions are skipped for the rest of the run
    unroutable: set[tuple[int, str]] = field(default_factory=set)
    required_skills: dict[int, list[tuple[int, int]]] = field(default_factory=dict)

    def skills_of(self, queue_id: int) -> list[tuple[int, int]]:
        if queue_id not in self.required_skills:
            self.required_skills[queue_id] = list(
                QueueSkill.objects.filter(queue_id=queue_id).values_list("skill_id", "min_level")
            )
        return self.required_skills[queue_id]


def _waiting_order(*, now: datetime, queue: Queue | None, run: _Run, skipped: set[int]) -> QuerySet:
    """Queued work in the order it should be served (read without locks: the claim re-checks)."""
    ageing_seconds = 60.0 * settings.SWITCHBOARD_ROUTING_AGEING_MINUTES
    waited = Extract(Value(now) - Coalesce("queued_at", "created_at"), "epoch")
    qs = Interaction.objects.filter(status=S.QUEUED, queue__isnull=False).annotate(
        effective_priority=Cast(F("priority"), FloatField()) + Cast(waited, FloatField()) / ageing_seconds
    )
    if queue is not None:
        qs = qs.filter(queue=queue)
    if skipped:
        qs = qs.exclude(pk__in=skipped)
    for queue_id, channel in run.unroutable:
        qs = qs.exclude(queue_id=queue_id, channel=channel)
    return qs.order_by(F("queue__priority").desc(), F("effective_priority").desc(), "queued_at", "id")


def _owned(channel: str | None = None) -> QuerySet:
    qs = Interaction.objects.filter(agent=OuterRef("pk"), status__in=OWNED)
    return qs.filter(channel=channel) if channel else qs


def _count(qs: QuerySet) -> Subquery:
    return Coalesce(
        Subquery(qs.order_by().values("agent").annotate(n=Count("pk")).values("n")[:1]),
        0,
        output_field=IntegerField(),
    )


def _candidate_agents(*, channel: str, skills: list[tuple[int, int]]) -> list[int]:
    """Ids of the agents who may take work of ``channel`` needing ``skills``, best first (read without locks)."""
    qs = Agent.objects.filter(status=AgentStatus.AVAILABLE, is_active=True)
    for skill_id, min_level in skills:
        qs = qs.filter(Exists(AgentSkill.objects.filter(agent=OuterRef("pk"), skill_id=skill_id, level__gte=min_level)))
        qs = qs.filter(skill_certified_q(skill_id=skill_id))  # a course-gated skill counts only with a valid pass
    skill_ids = [skill_id for skill_id, _ in skills]
    last_assigned = (
        Interaction.objects.filter(agent=OuterRef("pk"), assigned_at__isnull=False)
        .order_by("-assigned_at")
        .values("assigned_at")[:1]
    )
    qs = (
        qs.annotate(
            channel_capacity=Coalesce(Cast(KeyTextTransform(channel, "capacity"), IntegerField()), 0),
            channel_load=_count(_owned(channel)),
            skill_total=Coalesce(
                Subquery(
                    AgentSkill.objects.filter(agent=OuterRef("pk"), skill_id__in=skill_ids)
                    .order_by()
                    .values("agent")
                    .annotate(total=Sum("level"))
                    .values("total")[:1]
                ),
                0,
                output_field=IntegerField(),
            ),
            # idle since their last assignment or presence change, whichever is later (GREATEST skips NULLs)
            idle_since=Greatest("status_changed_at", Subquery(last_assigned)),
        )
        .filter(channel_capacity__gt=F("channel_load"))
        .exclude(Exists(_owned(Channel.VOICE)))
        .order_by("-skill_total", F("idle_since").asc(nulls_first=True), "pk")
    )
    return list(qs.values_list("pk", flat=True)[:AGENT_CANDIDATES])


def agent_has_room(*, agent: Agent, channel: str) -> bool:
    """Counted under the agent's row lock: every router holds it while assigning, so this count is exact."""
    channels = list(Interaction.objects.filter(agent=agent, status__in=OWNED).values_list("channel", flat=True))
    if Channel.VOICE in channels:
        return False
    return channels.count(channel) < agent.capacity_for(channel)


def _try_route(*, interaction_id: int, run: _Run) -> tuple[Interaction | None, bool]:
    """One attempt, in its own transaction. Returns (assigned interaction, whether an agent could have taken it)."""
    with transaction.atomic():
        claimed = (
            Interaction.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=interaction_id, status=S.QUEUED, queue__isnull=False)
            .first()
        )
        if claimed is None:  # another router holds it, or it left the queue since it was read
            return None, True
        candidates = _candidate_agents(channel=claimed.channel, skills=run.skills_of(claimed.queue_id))
        if not candidates:
            return None, False
        for agent_id in candidates:
            # status and is_active are this row's own columns: PostgreSQL re-checks them once the lock is taken
            agent = (
                Agent.objects.select_for_update(skip_locked=True)
                .filter(pk=agent_id, status=AgentStatus.AVAILABLE, is_active=True)
                .first()
            )
            if agent is None or not agent_has_room(agent=agent, channel=claimed.channel):
                continue
            return interaction_assign(interaction=claimed, agent=agent), True
    return None, True


def _route_one(*, queue: Queue | None, run: _Run) -> Interaction | None:
    skipped: set[int] = set()
    while True:
        now = timezone.now()
        waiting = list(
            _waiting_order(now=now, queue=queue, run=run, skipped=skipped).values_list("pk", "queue_id", "channel")[
                :WINDOW
            ]
        )
        if not waiting:
            return None
        for interaction_id, queue_id, channel in waiting:
            if (queue_id, channel) in run.unroutable:
                continue
            assigned, routable = _try_route(interaction_id=interaction_id, run=run)
            if assigned is not None:
                return assigned
            if routable:
                skipped.add(interaction_id)
            else:
                run.unroutable.add((queue_id, channel))


def route_next(*, queue: Queue | None = None) -> Interaction | None:
    """Assign the first waiting interaction (of ``queue``, or of any queue) that some agent can take now.

    Returns the assigned interaction, or None when nothing waiting can be assigned at the moment.
    Safe to call from many processes at once.
    """
    return _route_one(queue=queue, run=_Run())


def route_pending(*, limit: int = 100) -> int:
    """Assign waiting work until no agent can take more or ``limit`` assignments were made; returns how many.

    Idempotent: with nothing waiting or nobody free it changes nothing. The periodic task and every
    trigger (work queued, agent available, work finished) call this.
    """
    if not Agent.objects.filter(status=AgentStatus.AVAILABLE, is_active=True).exists():
        return 0
    run = _Run()
    routed = 0
    while routed < limit and _route_one(queue=None, run=run) is not None:
        routed += 1
    if routed:
        logger.info("routing: assigned %d interaction(s)", routed)
    return routed
