"""What the live websockets show: snapshots and event payloads (protocol: ``crm.consumers``).

Everything here returns plain JSON-ready dicts (ISO-8601 datetimes), since it travels through the channel
layer (msgpack) and then to the browser. Each builder is a fixed number of queries whatever the data size:
an interaction event is one query, queue figures one aggregate for any number of queues.
"""

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Count, F, FilteredRelation, Min, OuterRef, Q, Subquery, Value
from django.db.models.fields.json import JSONField
from django.db.models.functions import Coalesce
from django.utils import timezone

from agents.access import Viewer
from agents.models import Agent

from ..choices import OWNED_STATUSES, InteractionStatus
from ..models import Interaction, InteractionEvent, Queue

__all__ = [
    "live_agent_presence",
    "live_console_snapshot",
    "live_interaction",
    "live_queue_stats",
    "live_wallboard_snapshot",
]

S = InteractionStatus
# Accepted work the agent is on (the "active" figure of a queue); "assigned" is offered, not yet accepted.
WORKING = (S.ACTIVE, S.ON_HOLD, S.WRAP_UP)
IN_QUEUE_FIGURES = (S.QUEUED, S.ASSIGNED, *WORKING)

SUMMARY_VALUES = (
    "id",
    "status",
    "channel",
    "subject",
    "priority",
    "queue_id",
    "agent_id",
    "customer_id",
    "customer__name",
    "assigned_at",
    "accepted_at",
    "updated_at",
)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _summary(row: dict[str, Any]) -> dict[str, Any]:
    """``<interaction summary>`` from a ``values(*SUMMARY_VALUES)`` row."""
    return {
        "id": row["id"],
        "status": row["status"],
        "channel": row["channel"],
        "subject": row["subject"],
        "priority": row["priority"],
        "queue": row["queue_id"],
        "agent": row["agent_id"],
        "customer": {"id": row["customer_id"], "name": row["customer__name"]},
        "assigned_at": _iso(row["assigned_at"]),
        "accepted_at": _iso(row["accepted_at"]),
        "updated_at": _iso(row["updated_at"]),
    }


def _presence(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "team": row["team_id"],
        "status": row["status"],
        "status_changed_at": _iso(row["status_changed_at"]),
    }


PRESENCE_VALUES = ("id", "name", "team_id", "status", "status_changed_at")


def live_queue_stats(*, queue_ids: Iterable[int] | None = None, team_ids: Iterable[int] | None = None) -> list[dict]:
    """``<queue stats>`` of the given queues (or of the given teams' queues; neither: all), by id, one query.

    The queue's open work is joined through a filtered relation, so the join condition (``queue_id`` and
    the open statuses) reaches the ``interaction_queue_status`` index instead of every interaction the
    queue ever had. Each dict also carries ``team`` (the owning team's id), which the publisher needs to
    pick the groups and which a wallboard may show.
    """
    queues = Queue.objects.all()
    if queue_ids is not None:
        queues = queues.filter(pk__in=list(queue_ids))
    if team_ids is not None:
        queues = queues.filter(team_id__in=list(team_ids))
    rows = (
        queues.annotate(work=FilteredRelation("interactions", condition=Q(interactions__status__in=IN_QUEUE_FIGURES)))
        .values("id", "name", "team_id")
        .annotate(
            waiting=Count("work", filter=Q(work__status=S.QUEUED)),
            oldest_queued_at=Min("work__queued_at", filter=Q(work__status=S.QUEUED)),
            assigned=Count("work", filter=Q(work__status=S.ASSIGNED)),
            active=Count("work", filter=Q(work__status__in=WORKING)),
        )
        .order_by("id")
    )
    now = timezone.now()
    return [
        {
            "id": row["id"],
            "name": row["name"],
            "team": row["team_id"],
            "waiting": row["waiting"],
            "oldest_waiting_seconds": (
                max(0, round((now - row["oldest_queued_at"]).total_seconds())) if row["oldest_queued_at"] else None
            ),
            "assigned": row["assigned"],
            "active": row["active"],
        }
        for row in rows
    ]


def live_interaction(*, interaction_id: int, with_previous: bool) -> dict[str, Any] | None:
    """The interaction's summary as it is now, plus who and where it was before the move; one query.

    Returns ``{"summary", "queue_team", "previous_agent", "previous_queue"}`` or None when the row is gone.
    ``with_previous`` (work that may have left an agent or a queue: transfers, re-queues, overflows) adds
    two subqueries: the last agent who held it other than the current one (every event records the agent
    after its move, so this is the agent before the move), and the queue the latest event says it left
    (``from_queue`` in transfer and overflow events).
    """
    queryset = Interaction.objects.filter(pk=interaction_id)
    extra: list[str] = ["queue__team_id"]
    if with_previous:
        events = InteractionEvent.objects.filter(interaction_id=OuterRef("pk")).order_by("-id")
        queryset = queryset.annotate(
            previous_agent=Subquery(
                events.filter(agent__isnull=False)
                .exclude(agent_id=Coalesce(OuterRef("agent_id"), Value(0)))
                .values("agent_id")[:1]
            ),
            previous_queue_data=Subquery(
                events.filter(data__has_key="from_queue").values("data")[:1], output_field=JSONField()
            ),
        )
        extra += ["previous_agent", "previous_queue_data"]
    row = queryset.values(*SUMMARY_VALUES, *extra).first()
    if row is None:
        return None
    previous_queue = None
    if with_previous and isinstance(row["previous_queue_data"], dict):
        candidate = row["previous_queue_data"].get("from_queue")
        previous_queue = candidate if isinstance(candidate, int) else None
    return {
        "summary": _summary(row),
        "queue_team": row["queue__team_id"],
        "previous_agent": row.get("previous_agent"),
        "previous_queue": previous_queue,
    }


def live_agent_presence(*, agent_id: int) -> dict[str, Any] | None:
    """``{"id", "name", "team", "status", "status_changed_at"}`` of one agent as it is now; one query."""
    row = Agent.objects.filter(pk=agent_id).values(*PRESENCE_VALUES).first()
    return _presence(row) if row else None


def live_console_snapshot(*, agent_id: int, queue_ids: Iterable[int]) -> dict[str, Any]:
    """The console's snapshot: the agent, the work they own now, and the figures of the queues they serve."""
    agent = Agent.objects.filter(pk=agent_id).values(*PRESENCE_VALUES, "capacity").get()
    rows = list(
        Interaction.objects.filter(agent_id=agent_id, status__in=sorted(OWNED_STATUSES))
        .order_by(F("assigned_at").asc(nulls_last=True), "id")
        .values(*SUMMARY_VALUES)
    )
    used = Counter(row["channel"] for row in rows)
    limits = {channel: int(limit) for channel, limit in (agent["capacity"] or {}).items()}
    capacity = {channel: {"used": used.get(channel, 0), "max": limits.get(channel, 0)} for channel in limits | used}
    presence = _presence(agent)
    del presence["team"]
    return {
        "agent": {**presence, "capacity": capacity},
        "interactions": [_summary(row) for row in rows],
        "queues": live_queue_stats(queue_ids=queue_ids),
    }


def live_wallboard_snapshot(*, viewer: Viewer) -> dict[str, Any]:
    """The wallboard's snapshot: every queue and active agent (unrestricted) or those of the viewer's teams."""
    agents = Agent.objects.filter(is_active=True)
    if not viewer.unrestricted:
        agents = agents.filter(team_id__in=viewer.team_ids)
    return {
        "queues": live_queue_stats(team_ids=None if viewer.unrestricted else viewer.team_ids),
        "agents": [_presence(row) for row in agents.order_by("id").values(*PRESENCE_VALUES)],
    }
