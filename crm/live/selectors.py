"""What the live websockets show: snapshots and event payloads (protocol: ``crm.live.consumers``).

Everything here returns plain JSON-ready dicts (ISO-8601 datetimes), since it travels through the channel
layer (msgpack) and then to the browser. Each builder is a fixed number of queries whatever the data size:
an interaction event is one query, queue figures one aggregate for any number of queues.
"""

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.db import connections, router
from django.db.models import (
    Count,
    DurationField,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import JSONField
from django.db.models.functions import Coalesce
from django.utils import timezone

from agents.access import Viewer
from agents.choices import BreakStatus
from agents.models import Agent, Break
from crm.choices import OWNED_STATUSES, EscalationKind, InteractionStatus
from crm.interactions.models import Interaction, InteractionEvent
from crm.routing.models import Queue
from crm.sla.models import Escalation

from .figures import live_inbox_stats, open_work_query

__all__ = [
    "live_agent_presence",
    "live_console_snapshot",
    "live_interaction",
    "live_interactions",
    "live_queue_stats",
    "live_queue_today",
    "live_wallboard_snapshot",
]

S = InteractionStatus
# Accepted work the agent is on (the "active" figure of a queue); "assigned" is offered, not yet accepted.

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


# Raw SQL: it runs on every routed batch and every status change, and the ORM took longer to build the
# filtered-relation aggregate than PostgreSQL to run it. The join condition (queue and open statuses) reaches
# the ``interaction_queue_status`` index instead of every interaction the queue ever had.
_QUEUE_STATS_SQL = """
    SELECT q.id, q.name, q.team_id,
        count(i.id) FILTER (WHERE i.status = %(queued)s),
        min(i.queued_at) FILTER (WHERE i.status = %(queued)s),
        count(i.id) FILTER (WHERE i.status = %(assigned)s),
        count(i.id) FILTER (WHERE i.status = ANY(%(working)s))
    FROM {queue} q
    LEFT JOIN {interaction} i ON i.queue_id = q.id AND i.status = ANY(%(open)s)
    WHERE true {filters}
    GROUP BY q.id
    ORDER BY q.id
"""


def live_queue_stats(*, queue_ids: Iterable[int] | None = None, team_ids: Iterable[int] | None = None) -> list[dict]:
    """``<queue stats>`` of the given queues (or of the given teams' queues; neither: all), by id, one query.

    Each dict also carries ``team`` (the owning team's id), which the publisher needs to pick the groups and
    which a wallboard may show.
    """
    tables = {"queue": Queue._meta.db_table, "interaction": Interaction._meta.db_table}
    rows, waited = open_work_query(_QUEUE_STATS_SQL, ids_column="q.id", ids=queue_ids, team_ids=team_ids, tables=tables)
    return [
        {
            "id": pk,
            "name": name,
            "team": team_id,
            "waiting": waiting,
            "oldest_waiting_seconds": waited(oldest),
            "assigned": assigned,
            "active": active,
        }
        for pk, name, team_id, waiting, oldest, assigned, active in rows
    ]


class _Seconds(Func):
    """``make_interval(secs => n)``: the queue's answer threshold as an interval, to add to a timestamp."""

    function = "make_interval"
    template = "make_interval(secs => %(expressions)s)"
    output_field = DurationField()


def _count_by_queue(queryset, *, queue_field: str, **filters) -> Subquery:
    """A scalar subquery counting ``queryset`` rows of the outer queue (0 when none)."""
    counted = (
        queryset.filter(**{queue_field: OuterRef("pk")}, **filters)
        .order_by()
        .values(queue_field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def live_queue_today(
    *, queue_ids: Iterable[int] | None = None, team_ids: Iterable[int] | None = None, now: datetime | None = None
) -> dict[int, dict[str, Any]]:
    """Per queue, ``{"service_level_today": 0..1|None, "sla_breaches_last_hour": n}``; one query.

    Service level is the reports' definition (``reporting.selectors.kpis``: answered within the queue's
    ``service_level_seconds`` of queueing / answered + abandoned) over the interactions created since local
    midnight, None before any counts. Breaches are ``crm.Escalation`` breach rows (step 0: one per clock run, as
    ``sla.breached`` is sent) created in the last hour. Counted by correlated subqueries per queue (a wallboard shows tens of queues, not thousands),
    so the figures come in the same round trip; they are in the wallboard snapshot, not in each
    ``queue.stats`` event, which stays one cheap aggregate over open work.
    """
    now = now or timezone.now()
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    queues = Queue.objects.all()
    if queue_ids is not None:
        queues = queues.filter(pk__in=list(queue_ids))
    if team_ids is not None:
        queues = queues.filter(team_id__in=list(team_ids))
    today = Interaction.objects.filter(created_at__gte=midnight)
    handled = Q(accepted_at__isnull=False)
    rows = queues.annotate(
        in_time=_count_by_queue(
            today.filter(handled).annotate(
                answer_by=Coalesce("queued_at", "created_at") + _Seconds(F("queue__service_level_seconds"))
            ),
            queue_field="queue_id",
            accepted_at__lte=F("answer_by"),
        ),
        counted=_count_by_queue(today.filter(handled | Q(abandoned_at__isnull=False)), queue_field="queue_id"),
        breaches=_count_by_queue(
            Escalation.objects.all(),
            queue_field="interaction__queue_id",
            kind=EscalationKind.BREACH,
            step=0,  # the breach itself; later steps of the same run are also of kind breach
            created_at__gte=now - timedelta(hours=1),
        ),
    ).values_list("id", "in_time", "counted", "breaches")
    return {
        pk: {
            "service_level_today": round(in_time / counted, 3) if counted else None,
            "sla_breaches_last_hour": breaches,
        }
        for pk, in_time, counted, breaches in rows
    }


def live_interaction(*, interaction_id: int, with_previous: bool) -> dict[str, Any] | None:
    """The interaction's summary as it is now, plus who and where it was before the move; one query.

    Returns ``{"summary", "queue_team", "previous_agent", "previous_queue", "previous_queue_team"}`` or None when
    the row is gone.
    ``with_previous`` (work that may have left an agent or a queue: transfers, re-queues, overflows) adds
    two subqueries: the last agent who held it other than the current one (every event records the agent
    after its move, so this is the agent before the move), and the queue the latest event says it left
    (``from_queue`` in transfer and overflow events).
    """
    if not with_previous:  # the precompiled query of a batch: the ORM's building of this one cost more than its run
        return live_interactions(interaction_ids=[interaction_id]).get(interaction_id)
    events = InteractionEvent.objects.filter(interaction_id=OuterRef("pk")).order_by("-id")
    queryset = Interaction.objects.filter(pk=interaction_id).annotate(
        previous_agent=Subquery(
            events.filter(agent__isnull=False)
            .exclude(agent_id=Coalesce(OuterRef("agent_id"), Value(0)))
            .values("agent_id")[:1]
        ),
        previous_queue_data=Subquery(
            events.filter(data__has_key="from_queue").values("data")[:1], output_field=JSONField()
        ),
    )
    extra = ["queue__team_id", "previous_agent", "previous_queue_data"]
    row = queryset.values(*SUMMARY_VALUES, *extra).first()
    if row is None:
        return None
    previous_queue = None
    if isinstance(row["previous_queue_data"], dict):
        candidate = row["previous_queue_data"].get("from_queue")
        previous_queue = candidate if isinstance(candidate, int) else None
    previous_team = None
    if previous_queue is not None and previous_queue != row["queue_id"]:  # moved work only: rare
        previous_team = Queue.objects.filter(pk=previous_queue).values_list("team_id", flat=True).first()
    return {
        "summary": _summary(row),
        "queue_team": row["queue__team_id"],
        "previous_agent": row["previous_agent"],
        "previous_queue": previous_queue,
        "previous_queue_team": previous_team,
    }


SUMMARIES_COLUMNS = (*SUMMARY_VALUES, "queue__team_id")


@cache
def _summaries_sql(alias: str) -> str:
    """``live_interactions``' query, compiled once per database (every create and assignment publishes through it,
    and building it cost more than running it): its one parameter is the array of ids."""
    ids = RawSQL("SELECT unnest(%s::bigint[])", ([],))  # noqa: S611  (a fixed fragment, the ids are its parameter)
    query = Interaction.objects.using(alias).filter(pk__in=ids).values(*SUMMARIES_COLUMNS).query
    sql, params = query.get_compiler(using=alias).as_sql()
    if list(params) != [[]]:  # the ids' array must be the only parameter
        raise RuntimeError(f"live_interactions: unexpected parameters {params!r}")
    return sql


def live_interactions(*, interaction_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """``live_interaction`` without the previous agent and queue for many interactions, by id; one query.

    For a batch of changes that moved nothing between agents or queues (a router's assignments); rows gone
    are left out.
    """
    alias = router.db_for_read(Interaction)
    sql = _summaries_sql(alias)
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, [list(interaction_ids)])
        rows = [dict(zip(SUMMARIES_COLUMNS, values, strict=True)) for values in cursor.fetchall()]
    return {
        row["id"]: {
            "summary": _summary(row),
            "queue_team": row["queue__team_id"],
            "previous_agent": None,
            "previous_queue": None,
            "previous_queue_team": None,
        }
        for row in rows
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
    """The wallboard's snapshot: every queue and active agent (unrestricted) or those of the viewer's teams.

    Four queries: the queues' live figures, their figures of today (service level, breaches in the last
    hour: ``live_queue_today``), the same open work split by inbox (``inboxes``: ``live_inbox_stats``) and the agents with their running break, if any (``on_break``:
    ``{"id", "type_name", "ends_at"}`` or None; ``break.started`` / ``break.ended`` events keep it current).
    """
    team_ids = None if viewer.unrestricted else viewer.team_ids
    agents = Agent.objects.filter(is_active=True)
    if not viewer.unrestricted:
        agents = agents.filter(team_id__in=viewer.team_ids)
    running = Break.objects.filter(agent_id=OuterRef("pk"), status=BreakStatus.STARTED)
    agents = agents.annotate(
        break_id=Subquery(running.values("pk")[:1]),
        break_type_name=Subquery(running.values("break_type__name")[:1]),
        break_ends_at=Subquery(running.annotate(ends=F("started_at") + _Seconds(F("minutes") * 60)).values("ends")[:1]),
    )
    today = live_queue_today(team_ids=team_ids)
    queues = [{**stats, **today.get(stats["id"], {})} for stats in live_queue_stats(team_ids=team_ids)]
    inboxes = live_inbox_stats(team_ids=team_ids)
    rows = agents.order_by("id").values(*PRESENCE_VALUES, "break_id", "break_type_name", "break_ends_at")
    return {
        "queues": queues,
        "inboxes": inboxes,
        "agents": [
            {
                **_presence(row),
                "on_break": (
                    {"id": row["break_id"], "type_name": row["break_type_name"], "ends_at": _iso(row["break_ends_at"])}
                    if row["break_id"]
                    else None
                ),
            }
            for row in rows
        ],
    }
