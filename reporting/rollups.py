"""The hourly KPI rollup: refreshed incrementally, read by ``kpi_rows`` for the whole hours of a report.

Why: a 30-day report over a busy center touches ~170,000 interactions, each with a first-contact-resolution
probe; the rollup holds one row per (UTC hour, queue, channel) with the same additive figures, so the same report
adds a few thousand rows. Figures are computed by the very aggregates of ``reporting.selectors``
(``interaction_sums``, ``survey_sums``), so rollup and raw cannot drift in definition; a property test checks
they agree over random windows.

Refresh (``kpi_rollup_refresh``, every minute from Celery beat) recomputes whole hours, deleting and inserting
their rows in one transaction: every hour since the last refresh, and every older hour holding an interaction
whose figures may have changed since — it had an event (every status change, transfer, first response and edit
writes one), a survey answer, a new contact by the same customer on the same category within the FCR window
after its resolution, or a due time that passed while it was still open. Hours after the watermark's hour are
always read raw, so a report is at most one refresh interval behind for the rolled-up part.

When reports use it (``rollup_plan``): unrestricted viewers (staff, keys bound to no team), no agent filter or
grouping (the rollup has no agent dimension: 200 agents would make it as big as the raw table), and for day or
hour grouping a time zone on whole-hour offsets (a UTC hour falls inside one local hour there).
"""

import dataclasses
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, Sum
from django.db.models.functions import TruncDate, TruncHour
from django.utils import timezone

from agents.access import Viewer
from crm.choices import OPEN_STATUSES, InteractionEventKind
from crm.interactions.models import Interaction, InteractionEvent
from crm.surveys.models import SurveyResponse

from .models import KpiHour, KpiRollupState
from .sums import INTERACTION_SUMS, SUMS, SURVEY_SUMS, KpiQuery, interaction_sums, survey_sums

HOUR = timedelta(hours=1)
MIN_ROLLED = timedelta(hours=2)
# A row's timestamps are taken before its transaction commits: a change stamped just before a refresh may become
# visible just after it. Each refresh looks this far behind the previous one, so such a change is not lost.
LATE_COMMIT_MARGIN = timedelta(minutes=5)  # below this, the raw query is as cheap as splitting the range
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def ceil_hour(moment: datetime) -> datetime:
    floored = floor_hour(moment)
    return floored if floored == moment else floored + HOUR


# --- reading ------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RollupPlan:
    rolled: KpiQuery  # whole hours read from KpiHour
    raw: list[KpiQuery]  # the edges read from the interactions


def _whole_hour_offsets(query: KpiQuery) -> bool:
    zone = query.zone
    return all(
        zone.utcoffset(moment.replace(tzinfo=None)).total_seconds() % 3600 == 0 for moment in (query.start, query.end)
    )


def rollup_plan(*, viewer: Viewer, query: KpiQuery, refreshed_at: datetime | None = None) -> RollupPlan | None:
    """How to split ``query`` between the rollup and raw interactions, or None to read it all raw."""
    if not viewer.unrestricted or query.agent is not None or query.group_by == "agent" or _by_inbox(query):
        return None
    if query.group_by in ("day", "hour") and not _whole_hour_offsets(query):
        return None
    if refreshed_at is None:
        refreshed_at = KpiRollupState.objects.filter(pk=1).values_list("refreshed_at", flat=True).first()
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


def _by_inbox(query: KpiQuery) -> bool:
    """The rollups keep no inbox: a report by or for an inbox reads the interactions."""
    return query.group_by == "inbox" or query.inbox is not None


def rollup_sums(*, query: KpiQuery) -> dict:
    """Additive figures per group key over the rollup hours of ``query`` (one grouped query)."""
    hours = KpiHour.objects.filter(bucket__gte=query.start, bucket__lt=query.end).order_by()
    for name in ("queue", "channel", "team"):
        value = getattr(query, name)
        if value not in (None, ""):
            hours = hours.filter(**{"channel" if name == "channel" else f"{name}_id": value})
    totals = {name: Sum(name) for name in SUMS}
    if query.group_by == "total":
        return {None: hours.aggregate(**totals)}
    zone = query.zone
    group = {
        "day": TruncDate("bucket", tzinfo=zone),
        "hour": TruncHour("bucket", tzinfo=zone),
        "queue": F("queue_id"),
        "channel": F("channel"),
        "team": F("team_id"),
    }[query.group_by]
    return {row.pop("group"): row for row in hours.annotate(group=group).values("group").annotate(**totals)}


# --- refreshing ---------------------------------------------------------------------------------------------


def _dirty_hours(*, since: datetime, now: datetime, before: datetime) -> list[datetime]:
    """UTC hours before ``before`` whose figures may have changed between ``since`` and ``now``."""
    fcr_days = timedelta(days=settings.SWITCHBOARD_FCR_DAYS)
    touched = Interaction.objects.filter(
        pk__in=InteractionEvent.objects.filter(kind__in=InteractionEventKind.values, at__gte=since).values(
            "interaction_id"
        )
    )
    answered = Interaction.objects.filter(
        pk__in=SurveyResponse.objects.filter(answered_at__gte=since).values("survey__interaction_id")
    )
    newcomers = Interaction.objects.filter(created_at__gte=since, created_at__lte=now)
    repeated = Interaction.objects.filter(
        customer_id__in=newcomers.values("customer_id"),
        resolved_at__gte=since - fcr_days,
    ).filter(
        Exists(
            newcomers.filter(
                customer_id=OuterRef("customer_id"),
                category=OuterRef("category"),
                created_at__gt=OuterRef("resolved_at"),
                created_at__lte=OuterRef("resolved_at") + fcr_days,
            )
        )
    )
    open_statuses = sorted(OPEN_STATUSES)
    overdue = Interaction.objects.filter(
        Q(status__in=open_statuses, first_response_at__isnull=True, first_response_due_at__gt=since)
        & Q(first_response_due_at__lte=now)
        | Q(status__in=open_statuses, resolution_due_at__gt=since, resolution_due_at__lte=now)
    )
    hours: set[datetime] = set()
    for interactions in (touched, answered, repeated, overdue):
        hours.update(
            interactions.filter(created_at__lt=before)
            .annotate(hour=TruncHour("created_at", tzinfo=UTC))
            .order_by()
            .values_list("hour", flat=True)
            .distinct()
        )
    return sorted(hours)


_COLUMNS = ", ".join(INTERACTION_SUMS)
_SURVEY_SET = ", ".join(f"{name} = coalesce(s.{name}, 0)" for name in SURVEY_SUMS)


def _recompute(*, hours: Q, now: datetime, start: datetime) -> int:
    """Insert fresh rollup rows for the interactions matched by ``hours`` (whole hours); returns the rows written."""
    by_hour = (
        Interaction.objects.filter(hours)
        .order_by()
        .annotate(bucket=TruncHour("created_at", tzinfo=UTC), team=F("queue__team_id"))
        .values("bucket", "queue_id", "channel", "team")
        .annotate(**interaction_sums(now=now, start=start))
    )
    answers = (
        # through the interactions' ids: their created_at index finds them; an OR across the join would not
        SurveyResponse.objects.filter(survey__interaction__in=Interaction.objects.filter(hours).values("pk"))
        .order_by()
        .annotate(
            bucket=TruncHour("survey__interaction__created_at", tzinfo=UTC),
            q=F("survey__interaction__queue_id"),
            ch=F("survey__interaction__channel"),
        )
        .values("bucket", "q", "ch")
        .annotate(**survey_sums())
    )
    interactions_sql, interactions_params = by_hour.query.sql_with_params()
    answers_sql, answers_params = answers.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO reporting_kpihour (bucket, queue_id, channel, team_id, {_COLUMNS}, {', '.join(SURVEY_SUMS)})"  # noqa: S608  (column names are ours)
            f" SELECT s.bucket, s.queue_id, s.channel, s.team, {', '.join(f'coalesce(s.{c}, 0)' for c in INTERACTION_SUMS)},"
            f" {', '.join('0' for _ in SURVEY_SUMS)} FROM ({interactions_sql}) s",
            interactions_params,
        )
        written = cursor.rowcount
        cursor.execute(
            f"UPDATE reporting_kpihour k SET {_SURVEY_SET} FROM ({answers_sql}) s"  # noqa: S608
            " WHERE k.bucket = s.bucket AND k.queue_id IS NOT DISTINCT FROM s.q AND k.channel = s.ch",
            answers_params,
        )
    return written


def kpi_rollup_refresh(*, now: datetime | None = None) -> int:
    """Bring the hourly rollup up to ``now`` (see the module docstring); returns the number of rows written.

    Runs under a row lock on the watermark, so two refreshes never interleave; the first one computes all history.
    """
    now = now or timezone.now()
    end = floor_hour(now)
    with transaction.atomic():
        state, _ = KpiRollupState.objects.select_for_update().get_or_create(pk=1, defaults={"refreshed_at": EPOCH})
        since = state.refreshed_at - LATE_COMMIT_MARGIN if state.refreshed_at > EPOCH else EPOCH
        start = floor_hour(since)
        dirty = _dirty_hours(since=since, now=now, before=start) if since > EPOCH else []
        recent = Q(created_at__gte=start, created_at__lt=end)
        KpiHour.objects.filter(bucket__gte=start, bucket__lt=end).delete()
        if dirty:
            KpiHour.objects.filter(bucket__in=dirty).delete()
            old = Q(created_at__gte=dirty[0], created_at__lt=dirty[-1] + HOUR) & Q(
                pk__in=Interaction.objects.annotate(h=TruncHour("created_at", tzinfo=UTC))
                .filter(created_at__gte=dirty[0], created_at__lt=dirty[-1] + HOUR, h__in=dirty)
                .values("pk")
            )
            recent |= old
        written = 0
        if end > start or dirty:
            written = _recompute(hours=recent, now=now, start=dirty[0] if dirty else start)
        state.refreshed_at = now
        state.save(update_fields=["refreshed_at"])
    return written
