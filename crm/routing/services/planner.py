"""The router's planning: read the available agents, plan who takes what, lock them (the claim of waiting work is
``claiming``'s).

What ``crm.routing.services.router`` runs once per batch; see its docstring for the whole algorithm.
"""

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.db import OperationalError, connection, transaction
from django.utils import timezone

from agents.choices import AgentStatus, TrainingStatus
from agents.models import Agent, AgentRouting, AgentSkill, TrainingCourse, TrainingRecord
from config.choices import Channel
from config.prepared import generic_plan
from config.raw_rows import RawRows
from crm.choices import InteractionStatus
from crm.interactions.models import Interaction

from ..models import QueueSkill

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
    # agents another router held when this run wanted them (``skipped`` work waits for them)
    held_agents: set[int] = field(default_factory=set)

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


# Available agents, in one statement: the skills of the batch they hold (a course-gated skill counts only with a
# valid pass, as ``agents.selectors.agent_skill_certified_q``), their owned work per channel and the time they have
# been idle since (their last assignment or presence change, whichever is later; GREATEST skips NULLs), both from
# their routing state row (``agents.AgentRouting``, kept by the database's triggers): nothing counted or sorted per
# decision. Raw SQL on the hot path: the ORM's compiling of it cost more than PostgreSQL running it.
_AGENTS_SQL = """
    WITH held AS (
        SELECT s.agent_id, s.skill_id, s.level FROM {agentskill} s
        WHERE s.skill_id = ANY(%(skills)s)
          -- not gated: the skills of active courses read once (an array), not one probe per agent's skill
          AND (NOT (s.skill_id = ANY(ARRAY(SELECT c.skill_id FROM {course} c WHERE c.is_active AND c.skill_id IS NOT NULL)))
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
    with generic_plan(), connection.cursor() as cursor:  # planned once per connection: config.prepared
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
    SELECT {columns}, rs.load::text AS routing_load FROM {agent} a JOIN {routing} rs ON rs.agent_id = a.id
    WHERE a.id = ANY(%s) AND a.status = %s AND a.is_active ORDER BY a.id FOR UPDATE OF a, rs SKIP LOCKED
"""
_LOCKED = RawRows(Agent, table_alias="a", extra=("routing_load",))


def lock_agents(agent_ids: list[int]) -> dict[int, Agent]:
    """Lock the rows of the agents still available and active, with their exact load (``routing_load``, a
    ``Counter``); those another router (or a move of their work) holds are skipped."""
    query = _LOCK_AGENTS_SQL.format(
        columns=_LOCKED.columns, agent=Agent._meta.db_table, routing=AgentRouting._meta.db_table
    )
    locked = {}
    with connection.cursor() as cursor:
        cursor.execute(query, [agent_ids, AgentStatus.AVAILABLE])
        agents = _LOCKED.instances(cursor.fetchall(), using=connection.alias)
    for agent in agents:
        agent.routing_load = Counter(json.loads(agent.routing_load))
        locked[agent.pk] = agent
    return locked


_WAIT_AGENTS_SQL = "SELECT 1 FROM {agent} WHERE id = ANY(%s) ORDER BY id FOR SHARE"


def wait_for_agents(agent_ids: set[int], *, timeout_ms: int = 1000) -> bool:
    """Wait until the transactions holding these agents' rows (other routers', moves of their work) have ended.

    Holds nothing else meanwhile, so it cannot take part in a deadlock. False: still held after ``timeout_ms``
    (the periodic run looks again later).
    """
    if not agent_ids:
        return True
    query = _WAIT_AGENTS_SQL.format(agent=Agent._meta.db_table)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('lock_timeout'), set_config('lock_timeout', %s, true)", [f"{timeout_ms}ms"]
            )
            previous = cursor.fetchone()[0]
            cursor.execute(query, [sorted(agent_ids)])
            # inside a caller's transaction (a savepoint here) the setting would otherwise outlive this block
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])
    except OperationalError:  # lock_timeout (rolling back undoes the setting)
        logger.info("routing: agents %s still held after %d ms", sorted(agent_ids), timeout_ms)
        return False
    return True
