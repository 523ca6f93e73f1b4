"""Breakdowns and instants beside the KPI rows: contacts by category, backlog at an instant, agent occupancy."""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from agents.access import Viewer
from agents.models import Agent
from config.replicas import read_alias
from crm.interactions.models import Interaction

from ..sums import KpiQuery, _round, fraction, kpi_interactions, kpi_scope_q


def contacts_by_category(*, viewer: Viewer, query: KpiQuery) -> list[dict[str, Any]]:
    """Contacts per (category, disposition) in the range, largest first, with their FCR and resolved count."""
    fcr_days = timedelta(days=settings.SWITCHBOARD_FCR_DAYS)
    repeat_contact = Interaction.objects.filter(
        customer_id=OuterRef("customer_id"),
        category=OuterRef("category"),
        created_at__gt=OuterRef("resolved_at"),
        created_at__lte=OuterRef("resolved_at") + fcr_days,
    )
    resolved = Q(resolved_at__isnull=False)
    rows = (
        kpi_interactions(viewer=viewer, query=query)
        .values("category", "disposition")
        .annotate(
            contacts=Count("pk"),
            resolved=Count("pk", filter=resolved),
            resolved_first_time=Count("pk", filter=resolved & ~Exists(repeat_contact)),
        )
        .order_by("-contacts", "category", "disposition")
    )
    return [
        {
            "category": row["category"],
            "disposition": row["disposition"],
            "contacts": row["contacts"],
            "resolved": row["resolved"],
            "fcr": _round(fraction(row["resolved_first_time"], row["resolved"])),
        }
        for row in rows
    ]


def backlog_at(*, viewer: Viewer, at: datetime, queue: int | None = None) -> int:
    """Interactions open at ``at``: created at or before it and not resolved, abandoned or closed by then."""
    interactions = (
        Interaction.objects.filter(kpi_scope_q(viewer), created_at__lte=at)
        .alias(done=Coalesce("resolved_at", "abandoned_at", "closed_at"))
        .filter(Q(done__isnull=True) | Q(done__gt=at))
    )
    if queue is not None:
        interactions = interactions.filter(queue_id=queue)
    return interactions.count()


_OCCUPANCY_SQL = """
WITH changes AS (
    SELECT l.agent_id, l.id, l.status, l.changed_at
    FROM agents_agentstatuslog l
    WHERE l.agent_id = ANY(%(agents)s) AND l.changed_at < %(stop)s
      -- from the last change at or before the window start: the status each agent opens the window in
      AND l.changed_at >= coalesce(
          (SELECT max(a.changed_at) FROM agents_agentstatuslog a WHERE a.agent_id = l.agent_id AND a.changed_at <= %(start)s),
          '-infinity'::timestamptz)
), spans AS (
    SELECT agent_id, status, changed_at AS since,
           lead(changed_at) OVER (PARTITION BY agent_id ORDER BY changed_at, id) AS until
    FROM changes
), clipped AS (
    SELECT agent_id, status,
           extract(epoch FROM least(coalesce(until, %(stop)s), %(stop)s) - greatest(since, %(start)s)) AS seconds
    FROM spans WHERE since < %(stop)s AND coalesce(until, %(stop)s) > %(start)s
)
SELECT agent_id,
       coalesce(sum(seconds) FILTER (WHERE status IN ('busy', 'wrap_up')), 0),
       coalesce(sum(seconds) FILTER (WHERE status = 'available'), 0),
       coalesce(sum(seconds) FILTER (WHERE status <> 'offline'), 0)
FROM clipped GROUP BY agent_id
"""


def agent_occupancy(
    *, viewer: Viewer, start: datetime, end: datetime, team: int | None = None, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Per visible agent: seconds handling (busy + wrap-up), available and logged in between ``start`` and
    ``end`` (clipped to now), with ``occupancy`` and ``utilisation`` (see the module docstring).

    One statement over the status log for all agents (``LEAD`` per agent), the same span logic as
    ``agents.selectors.agent_status_durations``. Time before an agent's first logged change is not counted.
    """
    now = now or timezone.now()
    stop = min(end, now)
    agents = Agent.objects.all()
    if not viewer.unrestricted:
        visible = Q(pk__in=[])
        if not viewer.is_agent_only and viewer.team_ids:
            visible |= Q(team_id__in=viewer.team_ids)
        if viewer.agent_id is not None:
            visible |= Q(pk=viewer.agent_id)
        agents = agents.filter(visible)
    if team is not None:
        agents = agents.filter(team_id=team)
    names = dict(agents.values_list("pk", "name"))
    figures: dict[int, tuple[float, float, float]] = {}
    if names and stop > start:
        with connections[read_alias()].cursor() as cursor:
            cursor.execute(_OCCUPANCY_SQL, {"agents": list(names), "start": start, "stop": stop})
            figures = {agent: (float(h), float(a), float(on)) for agent, h, a, on in cursor.fetchall()}
    rows = []
    for agent_id, name in sorted(names.items(), key=lambda item: (item[1], item[0])):
        handling, available, logged_in = figures.get(agent_id, (0.0, 0.0, 0.0))
        rows.append(
            {
                "agent": agent_id,
                "name": name,
                "handling_seconds": round(handling, 1),
                "available_seconds": round(available, 1),
                "logged_in_seconds": round(logged_in, 1),
                "occupancy": _round(fraction(handling, handling + available)),
                "utilisation": _round(fraction(handling, logged_in)),
            }
        )
    return rows
