"""Each agent's kept routing state (``agents.AgentRouting``) against a recount of their work, and its repair.

The triggers of ``crm 0023_routing_agent_load`` keep the state in the statement that changes the work, so it does
not drift through anything that writes ``crm_interaction``, raw SQL included. It can drift only if the triggers
were bypassed (``session_replication_role = replica`` during a restore, triggers disabled, the state table written
by hand): ``manage.py routing_repair_state`` recounts every agent and says what it fixed.
"""

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction

from agents.models import Agent, AgentRouting
from crm.choices import OWNED_STATUSES
from crm.interactions.models import Interaction

logger = logging.getLogger(__name__)

# Per agent: the kept state and the recount (owned work per channel without zeros, the latest assigned_at).
_RECOUNT_SQL = """
    SELECT a.id, r.load::text, r.last_assigned_at, COALESCE(c.load, '{{}}')::text, c.last_assigned_at, r.agent_id IS NULL
    FROM {agent} a
    LEFT JOIN {routing} r ON r.agent_id = a.id
    LEFT JOIN LATERAL (
        SELECT (SELECT jsonb_object_agg(o.channel, o.n) FROM (
                    SELECT i.channel, count(*) AS n FROM {interaction} i
                    WHERE i.agent_id = a.id AND i.status = ANY(%(owned)s) GROUP BY i.channel) o) AS load,
               (SELECT max(i.assigned_at) FROM {interaction} i
                WHERE i.agent_id = a.id AND i.assigned_at IS NOT NULL) AS last_assigned_at
    ) c ON true
    ORDER BY a.id
"""


@dataclass(frozen=True)
class Drift:
    """One agent whose kept state differed from the recount (``missing``: they had no state row at all)."""

    agent_id: int
    kept_load: dict
    load: dict
    kept_last_assigned_at: datetime | None
    last_assigned_at: datetime | None
    missing: bool

    def __str__(self) -> str:
        if self.missing:
            return (
                f"agent {self.agent_id}: no routing state; now load {self.load}, last assigned {self.last_assigned_at}"
            )
        parts = []
        if self.kept_load != self.load:
            parts.append(f"load {self.kept_load} -> {self.load}")
        if self.kept_last_assigned_at != self.last_assigned_at:
            parts.append(f"last assigned {self.kept_last_assigned_at} -> {self.last_assigned_at}")
        return f"agent {self.agent_id}: " + ", ".join(parts)


def _recount() -> list[Drift]:
    query = _RECOUNT_SQL.format(
        agent=Agent._meta.db_table, routing=AgentRouting._meta.db_table, interaction=Interaction._meta.db_table
    )
    with connection.cursor() as cursor:
        cursor.execute(query, {"owned": sorted(OWNED_STATUSES)})
        rows = cursor.fetchall()
    drifts = []
    for agent_id, kept_load, kept_at, load, last_at, missing in rows:
        kept = json.loads(kept_load) if kept_load is not None else {}
        counted = json.loads(load)
        if missing or kept != counted or kept_at != last_at:
            drifts.append(Drift(agent_id, kept, counted, kept_at, last_at, missing))
    return drifts


def agent_routing_drift() -> list[Drift]:
    """The agents whose kept routing state is not what their work says (read only; empty when all is right)."""
    return _recount()


def agent_routing_repair() -> list[Drift]:
    """Recount every agent's routing state and write what differs; returns what was fixed.

    Every state row is locked first (as the triggers and the routers take them), so no move changes one while
    it is recounted: a move still in flight waits, then applies its change to the repaired figure.
    """
    with transaction.atomic():
        list(AgentRouting.objects.select_for_update().order_by("agent_id").values_list("agent_id", flat=True))
        drifts = _recount()
        for drift in drifts:
            AgentRouting.objects.update_or_create(
                agent_id=drift.agent_id,
                defaults={"load": drift.load, "last_assigned_at": drift.last_assigned_at},
            )
    for drift in drifts:
        logger.warning("routing state repaired: %s", drift)
    return drifts
