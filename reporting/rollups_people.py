"""The per-agent hourly rollup: reports of agents, team-scoped supervisors and team-bound keys from whole hours.

Why: the hourly rollup (``reporting.rollups``) has no agent dimension, so an agent's own figures, a supervisor's
teams (their queues *or* their agents' work) and any report filtered or grouped by agent read the interactions:
2.0 s for 90 days at 1,000,000 interactions. ``KpiHourAgent`` holds the same additive figures per (UTC hour,
queue, channel, agent), computed by the same aggregates (``interaction_sums``, ``survey_sums``), so it cannot
drift from raw in definition; a property test compares the two over random windows, viewers and groupings.

Scope without a team column: a viewer's teams are matched through the small queue and agent tables at read time
(``queue_id IN (their teams' queues) OR agent_id IN (their teams' agents)``, as ``interaction_visibility_q`` does
on the interactions), and grouping by team maps each row's queue to its current team. A queue or agent moving to
another team therefore reads exactly as a raw recompute would, with nothing to re-roll.

Refresh (``kpi_people_refresh``, from the same beat task as the hourly rollup): its own watermark, the same dirty
hours (``reporting.rollups._dirty_hours``: events, late survey answers, repeat contacts, due times passed) and
the same delete-and-insert of whole hours in one transaction; also the hours of a deleted agent or queue (their
interactions' column was set to null without an event), found by a loose index scan of the rollup's ids.
"""

import dataclasses
from datetime import UTC, datetime

from django.db import connection, transaction
from django.db.models import F, Q, Sum
from django.db.models.functions import TruncDate, TruncHour
from django.utils import timezone

from agents.access import Viewer
from agents.models import Agent
from crm.interactions.models import Interaction
from crm.routing.models import Queue
from crm.surveys.models import SurveyResponse

from .models import KpiHourAgent, KpiPeopleRollupState
from .rollups import (
    EPOCH,
    HOUR,
    LATE_COMMIT_MARGIN,
    MIN_ROLLED,
    RollupPlan,
    _by_inbox,
    _dirty_hours,
    _whole_hour_offsets,
    ceil_hour,
    floor_hour,
)
from .sums import INTERACTION_SUMS, SUMS, SURVEY_SUMS, KpiQuery, interaction_sums, survey_sums

NOTHING = Q(pk__in=[])


# --- reading ------------------------------------------------------------------------------------------------


def people_plan(*, query: KpiQuery, refreshed_at: datetime | None = None) -> RollupPlan | None:
    """How to split ``query`` between the per-agent rollup and raw interactions, or None to read it all raw.

    Any viewer and any filter or grouping; day and hour grouping need a time zone on whole-hour offsets, as for
    the hourly rollup (a UTC hour must fall inside one local hour).
    """
    if _by_inbox(query) or (query.group_by in ("day", "hour") and not _whole_hour_offsets(query)):
        return None
    if refreshed_at is None:
        refreshed_at = KpiPeopleRollupState.objects.filter(pk=1).values_list("refreshed_at", flat=True).first()
        if refreshed_at is None:
            return None
    start, end = ceil_hour(query.start), min(floor_hour(query.end), floor_hour(refreshed_at))
    if end - start < MIN_ROLLED:
        return None
    raw = []
    if query.start < start:
        raw.append(dataclasses.replace(query, start=query.start, end=start))
    if end < query.end:
        raw.append(dataclasses.replace(query, start=end, end=query.end))
    return RollupPlan(rolled=dataclasses.replace(query, start=start, end=end), raw=raw)


def people_scope_q(viewer: Viewer) -> Q:
    """``kpi_scope_q`` on rollup rows: all, an agent's own rows, or a team viewer's own, queues' and agents' rows."""
    if viewer.unrestricted:
        return Q()
    own = Q(agent_id=viewer.agent_id) if viewer.agent_id is not None else NOTHING
    if viewer.is_agent_only or not viewer.team_ids:
        return own
    teams = sorted(viewer.team_ids)
    return (
        own
        | Q(queue_id__in=Queue.objects.filter(team_id__in=teams).values("pk"))
        | Q(agent_id__in=Agent.objects.filter(team_id__in=teams).values("pk"))
    )


def people_sums(*, viewer: Viewer, query: KpiQuery) -> dict:
    """Additive figures per group key over the rollup hours of ``query``, in ``viewer``'s scope (one query)."""
    rows = KpiHourAgent.objects.filter(people_scope_q(viewer), bucket__gte=query.start, bucket__lt=query.end)
    if query.queue is not None:
        rows = rows.filter(queue_id=query.queue)
    if query.channel not in (None, ""):
        rows = rows.filter(channel=query.channel)
    if query.team is not None:
        rows = rows.filter(queue_id__in=Queue.objects.filter(team_id=query.team).values("pk"))
    if query.agent is not None:
        rows = rows.filter(agent_id=query.agent)
    rows = rows.order_by()
    totals = {name: Sum(name) for name in SUMS}
    if query.group_by == "total":
        return {None: rows.aggregate(**totals)}
    zone = query.zone
    group = {
        "day": TruncDate("bucket", tzinfo=zone),
        "hour": TruncHour("bucket", tzinfo=zone),
        "queue": F("queue_id"),
        "team": F("queue_id"),  # mapped to the queue's current team below: a few queues, no join per row
        "channel": F("channel"),
        "agent": F("agent_id"),
    }[query.group_by]
    sums = {row.pop("group"): row for row in rows.annotate(group=group).values("group").annotate(**totals)}
    if query.group_by != "team":
        return sums
    team_of = dict(Queue.objects.filter(pk__in=[k for k in sums if k is not None]).values_list("pk", "team_id"))
    by_team: dict = {}
    for queue_id, figures in sums.items():
        target = by_team.setdefault(team_of.get(queue_id), dict.fromkeys(SUMS, 0))
        for name, value in figures.items():
            target[name] += value or 0
    return by_team


# --- refreshing ---------------------------------------------------------------------------------------------

_COLUMNS = ", ".join(INTERACTION_SUMS)
_SURVEY_SET = ", ".join(f"{name} = coalesce(s.{name}, 0)" for name in SURVEY_SUMS)


def _recompute(*, hours: Q, now: datetime, start: datetime) -> int:
    """Insert fresh per-agent rows for the interactions matched by ``hours`` (whole hours); returns rows written."""
    by_hour = (
        Interaction.objects.filter(hours)
        .order_by()
        .annotate(bucket=TruncHour("created_at", tzinfo=UTC))
        .values("bucket", "queue_id", "channel", "agent_id")
        .annotate(**interaction_sums(now=now, start=start))
    )
    answers = (
        SurveyResponse.objects.filter(survey__interaction__in=Interaction.objects.filter(hours).values("pk"))
        .order_by()
        .annotate(
            bucket=TruncHour("survey__interaction__created_at", tzinfo=UTC),
            q=F("survey__interaction__queue_id"),
            ch=F("survey__interaction__channel"),
            a=F("survey__interaction__agent_id"),
        )
        .values("bucket", "q", "ch", "a")
        .annotate(**survey_sums())
    )
    interactions_sql, interactions_params = by_hour.query.sql_with_params()
    answers_sql, answers_params = answers.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")  # see raw_sums: compiling these aggregates costs more than it saves
        cursor.execute(
            f"INSERT INTO reporting_kpihouragent (bucket, queue_id, channel, agent_id, {_COLUMNS}, {', '.join(SURVEY_SUMS)})"  # noqa: S608  (column names are ours)
            f" SELECT s.bucket, s.queue_id, s.channel, s.agent_id,"
            f" {', '.join(f'coalesce(s.{c}, 0)' for c in INTERACTION_SUMS)}, {', '.join('0' for _ in SURVEY_SUMS)}"
            f" FROM ({interactions_sql}) s",
            interactions_params,
        )
        written = cursor.rowcount
        cursor.execute(
            f"UPDATE reporting_kpihouragent k SET {_SURVEY_SET} FROM ({answers_sql}) s"  # noqa: S608
            " WHERE k.bucket = s.bucket AND k.queue_id IS NOT DISTINCT FROM s.q AND k.channel = s.ch"
            " AND k.agent_id IS NOT DISTINCT FROM s.a",
            answers_params,
        )
    return written


def _present(column: str) -> list[int]:
    """The distinct non-null values of ``column`` in the rollup, by a loose index scan (one probe per value, on
    the ``(column, bucket)`` index) rather than reading every row."""
    assert column in ("agent_id", "queue_id")  # noqa: S101  (a column name of ours, not input)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH RECURSIVE present(v) AS (
                (SELECT {column} FROM reporting_kpihouragent WHERE {column} IS NOT NULL ORDER BY {column} LIMIT 1)
                UNION ALL
                SELECT (SELECT {column} FROM reporting_kpihouragent WHERE {column} > present.v
                        ORDER BY {column} LIMIT 1)
                FROM present WHERE present.v IS NOT NULL
            )
            SELECT v FROM present WHERE v IS NOT NULL
            """  # noqa: S608
        )
        return [value for (value,) in cursor.fetchall()]


def _orphaned_hours() -> set[datetime]:
    """Hours holding rows of a deleted agent or queue: deleting one sets the interactions' column to null (no
    event is written), so those hours are rolled again to read as a raw recompute does."""
    agents = set(_present("agent_id"))
    queues = set(_present("queue_id"))
    gone_agents = agents - set(Agent.objects.filter(pk__in=agents).values_list("pk", flat=True))
    gone_queues = queues - set(Queue.objects.filter(pk__in=queues).values_list("pk", flat=True))
    if not gone_agents and not gone_queues:
        return set()
    return set(
        KpiHourAgent.objects.filter(Q(agent_id__in=gone_agents) | Q(queue_id__in=gone_queues))
        .order_by()
        .values_list("bucket", flat=True)
        .distinct()
    )


def kpi_people_refresh(*, now: datetime | None = None) -> int:
    """Bring the per-agent rollup up to ``now``, exactly as ``kpi_rollup_refresh`` does the hourly one; returns
    the number of rows written. Under a row lock on its own watermark, so two refreshes never interleave."""
    now = now or timezone.now()
    end = floor_hour(now)
    with transaction.atomic():
        state, _ = KpiPeopleRollupState.objects.select_for_update().get_or_create(
            pk=1, defaults={"refreshed_at": EPOCH}
        )
        since = state.refreshed_at - LATE_COMMIT_MARGIN if state.refreshed_at > EPOCH else EPOCH
        start = floor_hour(since)
        dirty = []
        if since > EPOCH:
            changed = set(_dirty_hours(since=since, now=now, before=start)) | _orphaned_hours()
            dirty = sorted(hour for hour in changed if hour < start)
        recent = Q(created_at__gte=start, created_at__lt=end)
        KpiHourAgent.objects.filter(bucket__gte=start, bucket__lt=end).delete()
        if dirty:
            KpiHourAgent.objects.filter(bucket__in=dirty).delete()
            recent |= Q(created_at__gte=dirty[0], created_at__lt=dirty[-1] + HOUR) & Q(
                pk__in=Interaction.objects.annotate(h=TruncHour("created_at", tzinfo=UTC))
                .filter(created_at__gte=dirty[0], created_at__lt=dirty[-1] + HOUR, h__in=dirty)
                .values("pk")
            )
        written = 0
        if end > start or dirty:
            written = _recompute(hours=recent, now=now, start=dirty[0] if dirty else start)
        if since == EPOCH and written:
            # the first refresh wrote all history: plan the reports on real statistics, not autovacuum's later ones
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE reporting_kpihouragent")
        state.refreshed_at = now
        state.save(update_fields=["refreshed_at"])
    return written
