"""The router's planning: claim waiting work, read the available agents, plan who takes what, lock them.

What ``crm.routing.services.router`` runs once per batch; see its docstring for the whole algorithm.
"""

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import (
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from agents.choices import AgentStatus, TrainingStatus
from agents.models import Agent, AgentRouting, AgentSkill, TrainingCourse, TrainingRecord
from config.choices import Channel
from crm.choices import InteractionStatus, Priority
from crm.interactions.models import Interaction

from ..models import Queue, QueueSkill

logger = logging.getLogger(__name__)

S = InteractionStatus


_SKILLS_SQL = "SELECT queue_id, skill_id, min_level FROM {queueskill} WHERE queue_id = ANY(%s)"


@dataclass
class Run:
    """What one routing run has learnt, so it does not ask the same question twice."""

    # (queue_id, channel) pairs no agent can take now: their interactions are skipped for the rest of the run
    unroutable: set[tuple[int, str]] = field(default_factory=set)
    # interactions an agent could take but every such agent was held by another router: left for the next run
    skipped: set[int] = field(default_factory=set)
    required_skills: dict[int, list[tuple[int, int]]] = field(default_factory=dict)

    def load_skills(self, claimed: list[Interaction]) -> None:
        """The skills the queues of ``claimed`` require: as the claim read them, else in one statement."""
        for interaction in claimed:
            skill_ids = getattr(interaction, "routing_skill_ids", False)
            if skill_ids is not False and interaction.queue_id not in self.required_skills:
                self.required_skills[interaction.queue_id] = list(
                    zip(skill_ids or (), interaction.routing_min_levels or (), strict=True)
                )
        missing = {interaction.queue_id for interaction in claimed} - self.required_skills.keys()
        if not missing:
            return
        for queue_id in missing:
            self.required_skills[queue_id] = []
        with connection.cursor() as cursor:  # raw: the ORM took longer to build this than PostgreSQL to run it
            cursor.execute(_SKILLS_SQL.format(queueskill=QueueSkill._meta.db_table), [sorted(missing)])
            for queue_id, skill_id, min_level in cursor.fetchall():
                self.required_skills[queue_id].append((skill_id, min_level))


VOICE = Channel.VOICE.value  # a plain str: the room check runs for every candidate of every pick


@dataclass
class AgentState:
    """An available agent as the planner sees them: read without locks, made exact once their row is locked."""

    pk: int
    capacity: dict
    idle_since: datetime | None
    levels: dict[int, int] = field(default_factory=dict)
    load: Counter = field(default_factory=Counter)

    def room(self, channel: str, planned: Counter) -> bool:
        load = self.load
        if load.get(VOICE, 0) or planned.get(VOICE, 0):
            return False
        return load.get(channel, 0) + planned.get(channel, 0) < self.capacity.get(channel, 0)

    def qualified(self, skills: list[tuple[int, int]]) -> bool:
        return all(self.levels.get(skill_id, 0) >= min_level for skill_id, min_level in skills)


def capacity_of(raw) -> dict[str, int]:
    """The per-channel capacity as numbers, as ``Agent.capacity_for`` reads it."""
    return {channel: int(n) for channel, n in raw.items()} if isinstance(raw, dict) else {}


def _waiting_order(*, queue: Queue | None, run: Run) -> QuerySet:
    """Queued work in the order it should be served.

    Priority plus one step per ageing period waited, highest first, is the same order as "queued at, moved
    earlier by one ageing period per priority step", earliest first: p + (now - t) / A orders like t - p * A.
    The second needs no clock, so PostgreSQL compares plain timestamps instead of computing a float per row.
    """
    ageing = timedelta(minutes=settings.SWITCHBOARD_ROUTING_AGEING_MINUTES)
    qs = Interaction.objects.filter(status=S.QUEUED, queue__isnull=False).annotate(
        serve_from=ExpressionWrapper(
            Coalesce("queued_at", "created_at")
            - ExpressionWrapper(F("priority") * Value(ageing), output_field=DurationField()),
            output_field=DateTimeField(),
        )
    )
    if queue is not None:
        qs = qs.filter(queue=queue)
    if run.skipped:
        qs = qs.exclude(pk__in=run.skipped)
    for queue_id, channel in run.unroutable:
        qs = qs.exclude(queue_id=queue_id, channel=channel)
    return qs.order_by(F("queue__priority").desc(), "serve_from", "queued_at", "id")


# A claim of a few interactions reads the head of each (queue, priority) run through the ``interaction_routing``
# index (queued_at order) and merges them, instead of sorting all the waiting work: one decision stays cheap
# however long the queues are. Each run gives its first ``HEAD_FACTOR * size`` rows, so that many routers
# at once still find unlocked work among them.
HEAD_FACTOR = 4
HEAD_MAX = 32
_HEAD_SQL = """
    SELECT i.id
    FROM {queue} q
    CROSS JOIN unnest(%(priorities)s::smallint[]) AS p(priority)
    CROSS JOIN LATERAL (
        (SELECT i.id, i.queued_at, i.queued_at AS t, i.priority FROM {interaction} i
         WHERE i.queue_id = q.id AND i.status = %(queued)s AND i.priority = p.priority AND i.queued_at IS NOT NULL
         {filters}
         ORDER BY i.queued_at, i.id LIMIT %(n)s)
        UNION ALL
        (SELECT i.id, i.queued_at, i.created_at AS t, i.priority FROM {interaction} i
         WHERE i.queue_id = q.id AND i.status = %(queued)s AND i.priority = p.priority AND i.queued_at IS NULL
         {filters})
    ) i
    {only_queue}
    ORDER BY q.priority DESC, i.t - i.priority * %(ageing)s, i.queued_at, i.id
    LIMIT %(n)s
"""


def _head_query(*, size: int, queue: Queue | None, run: Run) -> tuple[str, dict]:
    filters = ""
    params = {
        "priorities": sorted(Priority.values),
        "queued": S.QUEUED,
        "n": HEAD_FACTOR * size,
        "size": size,
        "ageing": timedelta(minutes=settings.SWITCHBOARD_ROUTING_AGEING_MINUTES),
    }
    if run.skipped:
        filters += " AND NOT (i.id = ANY(%(skipped)s))"
        params["skipped"] = sorted(run.skipped)
    if run.unroutable:
        filters += " AND (i.queue_id, i.channel) NOT IN (SELECT * FROM unnest(%(uq)s::bigint[], %(uc)s::text[]))"
        params["uq"], params["uc"] = (list(column) for column in zip(*sorted(run.unroutable), strict=True))
    only_queue = ""
    if queue is not None:
        only_queue = "WHERE q.id = %(queue)s"
        params["queue"] = queue.pk
    query = _HEAD_SQL.format(
        queue=Queue._meta.db_table, interaction=Interaction._meta.db_table, filters=filters, only_queue=only_queue
    )
    return query, params


def _head(*, size: int, queue: Queue | None, run: Run) -> list[int]:
    """Ids of the first waiting interactions in serving order (read without locks; the claim re-checks)."""
    query, params = _head_query(size=size, queue=queue, run=run)
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return [row[0] for row in cursor.fetchall()]


# The head and its claim in one statement: the rows of the head still queued, locked unless another router holds
# them, in the head's order, each with the skills its queue requires (``Run.load_skills`` then asks nothing).
# Raw: the ORM took longer to build the claim than PostgreSQL to run it.
_CLAIM_SQL = """
    SELECT i.*,
           (SELECT array_agg(s.skill_id ORDER BY s.skill_id) FROM {queueskill} s WHERE s.queue_id = i.queue_id)
               AS routing_skill_ids,
           (SELECT array_agg(s.min_level ORDER BY s.skill_id) FROM {queueskill} s WHERE s.queue_id = i.queue_id)
               AS routing_min_levels
    FROM unnest(ARRAY({head})) WITH ORDINALITY AS h(id, position)
    JOIN {interaction} i ON i.id = h.id
    WHERE i.status = %(queued)s
    ORDER BY h.position
    LIMIT %(size)s
    FOR UPDATE OF i SKIP LOCKED
"""


def claim(*, size: int, queue: Queue | None, run: Run) -> tuple[list[Interaction], bool]:
    """Lock the first ``size`` waiting interactions no other router holds, in serving order.

    Returns (claimed interactions, whether any work is waiting at all). Waiting work all held by other
    routers is marked skipped for this run, so the next claim looks past it.
    """
    if HEAD_FACTOR * size > HEAD_MAX:  # a big batch: one sort of the waiting work costs less than many heads
        qs = _waiting_order(queue=queue, run=run).select_for_update(skip_locked=True, of=("self",))
        # Locking needs every waiting row sorted in full (wide rows, no top-N sort under FOR UPDATE); the first
        # HEAD_FACTOR * size ids are a top-N sort of narrow rows, and hold the claim unless other routers hold
        # most of them: then the full sort, as before (rows this one locked come first again in it).
        first = _waiting_order(queue=queue, run=run).values("id")[: HEAD_FACTOR * size]
        claimed = list(qs.filter(pk__in=Subquery(first))[:size])
        if len(claimed) < size:
            claimed = list(qs[:size])
        return claimed, bool(claimed)
    head, params = _head_query(size=size, queue=queue, run=run)
    claimed = list(
        Interaction.objects.raw(
            _CLAIM_SQL.format(head=head, interaction=Interaction._meta.db_table, queueskill=QueueSkill._meta.db_table),
            params,
        )
    )
    if claimed:
        return claimed, True
    # nothing claimed: nothing waiting, or all of the head held by other routers (look past it next time)
    head_ids = _head(size=size, queue=queue, run=run)
    run.skipped.update(head_ids)
    return [], bool(head_ids)


# Available agents, in one statement: the skills of the batch they hold (a course-gated skill counts only with a
# valid pass, as ``agents.selectors.agent_skill_certified_q``), their owned work per channel and the time they have
# been idle since (their last assignment or presence change, whichever is later; GREATEST skips NULLs), both from
# their routing state row (``agents.AgentRouting``, kept by the database's triggers): nothing counted or sorted per
# decision. Raw SQL on the hot path: the ORM's compiling of it cost more than PostgreSQL running it.
_AGENTS_SQL = """
    WITH held AS (
        SELECT s.agent_id, s.skill_id, s.level FROM {agentskill} s
        WHERE s.skill_id = ANY(%(skills)s)
          AND (NOT EXISTS (SELECT 1 FROM {course} c WHERE c.skill_id = s.skill_id AND c.is_active)
               OR EXISTS (SELECT 1 FROM {record} r JOIN {course} c ON c.id = r.course_id
                          WHERE r.agent_id = s.agent_id AND c.skill_id = s.skill_id AND c.is_active
                            AND r.status = %(passed)s AND (r.expires_at IS NULL OR r.expires_at > %(now)s)))
    ), levels AS (
        SELECT agent_id, array_agg(skill_id) AS skill_ids, array_agg(level) AS levels, sum(level) AS total
        FROM held GROUP BY agent_id
    ){qualified}
    SELECT a.id, a.capacity::text, GREATEST(a.status_changed_at, rs.last_assigned_at) AS idle, lv.skill_ids,
           lv.levels, rs.load::text
    FROM {agent} a
    JOIN {routing} rs ON rs.agent_id = a.id
    LEFT JOIN levels lv ON lv.agent_id = a.id
    WHERE a.status = %(available)s AND a.is_active {only}
      -- room for at least one of the batch's channels (an owned voice call blocks all): the others are of no use
      AND COALESCE((rs.load ->> 'voice')::int, 0) = 0
      AND EXISTS (SELECT 1 FROM unnest(%(channels)s::text[]) AS ch(c)
                  WHERE COALESCE((rs.load ->> ch.c)::int, 0) < COALESCE((a.capacity ->> ch.c)::numeric, 0))
    {best}
"""
# For one queue: its best agents first, as ``plan_assignments`` ranks them (highest total level in the queue's skills,
# then idle longest, never-idle first, then id), and only the first few.
_BEST_SQL = "ORDER BY COALESCE(lv.total, 0) DESC, (GREATEST(a.status_changed_at, rs.last_assigned_at) IS NOT NULL), idle, a.id LIMIT %(limit)s"
# The agents who hold every skill of at least one requirement (``idx``) at its level.
_QUALIFIED_SQL = """, required AS (
        SELECT * FROM unnest(%(req_idx)s::int[], %(req_skill)s::bigint[], %(req_min)s::int[]) AS r(idx, skill_id, min_level)
    ), qualified AS (
        SELECT h.agent_id FROM required r JOIN held h ON h.skill_id = r.skill_id AND h.level >= r.min_level
        GROUP BY h.agent_id, r.idx
        HAVING count(*) = (SELECT count(*) FROM required r2 WHERE r2.idx = r.idx)
    )"""


def read_agents(
    *, skills: list[list[tuple[int, int]]], channels: list[str], limit: int | None = None
) -> dict[int, AgentState]:
    """The available, active agents who hold the skills of at least one of ``skills`` and have room on one of
    ``channels`` (read without locks).

    ``limit``: for one queue's work on one channel, only the ``limit`` best of them for it (the planner's order).
    """
    params = {
        "channels": sorted(set(channels)),
        "skills": sorted({skill_id for required in skills for skill_id, _ in required}),
        "passed": TrainingStatus.PASSED,
        "now": timezone.now(),
        "available": AgentStatus.AVAILABLE,
    }
    qualified = only = ""
    if all(skills):  # every queue of the batch needs skills: only agents qualified for one of them are of use
        qualified, only = _QUALIFIED_SQL, "AND a.id IN (SELECT agent_id FROM qualified)"
        rows = [(idx, s, m) for idx, required in enumerate(sorted({tuple(r) for r in skills})) for s, m in required]
        params["req_idx"], params["req_skill"], params["req_min"] = (list(column) for column in zip(*rows, strict=True))
    best = ""
    if limit is not None:
        if len({tuple(r) for r in skills}) > 1 or len(set(channels)) > 1:
            raise ValueError("The best agents are read for one queue's work on one channel.")
        best, params["limit"] = _BEST_SQL, limit
    query = _AGENTS_SQL.format(
        best=best,
        agentskill=AgentSkill._meta.db_table,
        course=TrainingCourse._meta.db_table,
        record=TrainingRecord._meta.db_table,
        agent=Agent._meta.db_table,
        routing=AgentRouting._meta.db_table,
        qualified=qualified,
        only=only,
    )
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        rows = cursor.fetchall()
    return {
        pk: AgentState(
            pk=pk,
            capacity=capacity_of(json.loads(capacity)),
            idle_since=idle_since,
            levels=dict(zip(skill_ids, levels, strict=True)) if skill_ids else {},
            load=Counter(json.loads(load)),
        )
        for pk, capacity, idle_since, skill_ids, levels, load in rows
    }


# The agents' rows and their routing state rows, locked together: every change of an agent's load takes the state
# row's lock (the triggers update it), so the load read here stays exact until this transaction ends. Status and
# is_active are the agent row's own columns: PostgreSQL re-checks them once the lock is taken, and returns the
# locked state row as it is now. Raw: the ORM took longer to build this lock than PostgreSQL to take it.
_LOCK_AGENTS_SQL = """
    SELECT a.*, rs.load::text AS routing_load FROM {agent} a JOIN {routing} rs ON rs.agent_id = a.id
    WHERE a.id = ANY(%s) AND a.status = %s AND a.is_active ORDER BY a.id FOR UPDATE OF a, rs SKIP LOCKED
"""


def lock_agents(agent_ids: list[int]) -> dict[int, Agent]:
    """Lock the rows of the agents still available and active, with their exact load (``routing_load``, a
    ``Counter``); those another router (or a move of their work) holds are skipped."""
    query = _LOCK_AGENTS_SQL.format(agent=Agent._meta.db_table, routing=AgentRouting._meta.db_table)
    locked = {}
    for agent in Agent.objects.raw(query, [agent_ids, AgentStatus.AVAILABLE]):
        agent.routing_load = Counter(json.loads(agent.routing_load))
        locked[agent.pk] = agent
    return locked
