"""The building blocks of the KPI reports: the query, the viewer's scope, grouping, and the additive sums.

The figures here are additive (counts and sums), so that parts of a range — rollup hours
(``reporting.rollups``) and raw edges — add up to the whole; ``reporting.selectors.kpis`` turns a group's sums into its KPIs.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import (
    Count,
    DateTimeField,
    DurationField,
    Exists,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncDate, TruncHour
from django.utils import timezone

from agents.access import Viewer
from crm.choices import InteractionEventKind, SurveyKind
from crm.interactions.models import Interaction, InteractionEvent
from crm.interactions.selectors import interaction_visibility_q

GROUP_BY = ("total", "day", "hour", "queue", "channel", "inbox", "agent", "team")
ASYNC_CHANNELS = ("email", "sms", "whatsapp", "social", "web")
NOTHING = Q(pk__in=[])

KPI_FIELDS = (
    "offered",
    "handled",
    "abandoned",
    "abandonment_rate",
    "service_level",
    "asa_seconds",
    "aht_seconds",
    "fcr",
    "transfer_rate",
    "sla_breach_rate",
    "first_response_seconds",
    "csat",
    "nps",
    "ces",
    "csat_responses",
    "nps_responses",
    "ces_responses",
)


class Seconds(Func):
    """``EXTRACT(EPOCH FROM (later - earlier))``: the seconds between two timestamps, as a float."""

    template = "EXTRACT(EPOCH FROM (%(expressions)s))"
    arg_joiner = " - "
    output_field = FloatField()

    def __init__(self, later, earlier, **extra):
        super().__init__(later, earlier, **extra)


@dataclass(frozen=True)
class KpiQuery:
    """What a report asks for: the range ``[start, end)``, the grouping, its time zone and the filters."""

    start: datetime
    end: datetime
    group_by: str = "total"
    tz: str = ""
    queue: int | None = None
    channel: str | None = None
    team: int | None = None
    agent: int | None = None
    inbox: int | None = None  # the connected address, number or site the work came through

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz or settings.TIME_ZONE)


def kpi_scope_q(viewer: Viewer) -> Q:
    """The interactions whose figures ``viewer`` may read.

    Administrators and unrestricted keys: all. Supervisors and team-bound keys: their teams' queues and agents
    (``interaction_visibility_q``). A plain agent: only the work they handled — not the queued work of their
    team, which the console shows them but which is not their figure to report.
    """
    if viewer.unrestricted:
        return Q()
    if viewer.is_agent_only:
        return Q(agent_id=viewer.agent_id) if viewer.agent_id is not None else NOTHING
    return interaction_visibility_q(viewer)


def kpi_interactions(*, viewer: Viewer, query: KpiQuery) -> QuerySet[Interaction]:
    """The interactions a report counts: created in ``[start, end)``, in the viewer's scope, filtered."""
    if timezone.is_naive(query.start) or timezone.is_naive(query.end):
        raise ValueError("start and end must be timezone-aware")
    conditions = {"created_at__gte": query.start, "created_at__lt": query.end}
    for name, lookup in (
        ("queue", "queue_id"),
        ("channel", "channel"),
        ("team", "queue__team_id"),
        ("agent", "agent_id"),
        ("inbox", "inbox_id"),
    ):
        value = getattr(query, name)
        if value not in (None, ""):
            conditions[lookup] = value
    return Interaction.objects.filter(kpi_scope_q(viewer), **conditions).order_by()


def _group_expression(group_by: str, zone: ZoneInfo, prefix: str = ""):
    if group_by == "day":
        return TruncDate(f"{prefix}created_at", tzinfo=zone)
    if group_by == "hour":
        return TruncHour(f"{prefix}created_at", tzinfo=zone)
    return F(
        prefix
        + {
            "queue": "queue_id",
            "channel": "channel",
            "inbox": "inbox_id",
            "agent": "agent_id",
            "team": "queue__team_id",
        }[group_by]
    )


def _grouped(queryset: QuerySet, group_by: str, zone: ZoneInfo, prefix: str = "") -> QuerySet:
    if group_by == "total":
        return queryset
    return queryset.annotate(group=_group_expression(group_by, zone, prefix)).values("group")


def interaction_sums(*, now: datetime, start: datetime) -> dict[str, Any]:
    """The additive figures of a set of interactions (counts and sums), as FILTER aggregates.

    Additive, so that figures of parts of a range (rollup hours, raw edges) add up to the figures of the whole;
    averages and rates are divided out at the end (``kpi_row``). ``start`` bounds the transfer events looked at
    (a transfer happens after the interaction was created, so never before the range starts).
    """
    fcr_days = timedelta(days=settings.SWITCHBOARD_FCR_DAYS)
    handled = Q(accepted_at__isnull=False)
    resolved = Q(resolved_at__isnull=False)
    repeat_contact = Interaction.objects.filter(
        customer_id=OuterRef("customer_id"),
        category=OuterRef("category"),
        created_at__gt=OuterRef("resolved_at"),
        created_at__lte=OuterRef("resolved_at") + fcr_days,
    )
    # IN (…) rather than a correlated EXISTS: PostgreSQL hashes the transferred ids once instead of probing per row
    transferred = InteractionEvent.objects.filter(kind=InteractionEventKind.TRANSFERRED, at__gte=start).values(
        "interaction_id"
    )
    now_value = Value(now, output_field=DateTimeField())
    first_breached = Q(first_response_due_at__isnull=False) & Q(
        first_response_due_at__lt=Coalesce("first_response_at", "resolved_at", "abandoned_at", now_value)
    )
    resolution_breached = Q(resolution_due_at__isnull=False) & Q(
        resolution_due_at__lt=Coalesce("resolved_at", "abandoned_at", now_value)
    )
    first_response = Q(channel__in=ASYNC_CHANNELS, first_response_at__isnull=False)
    return {
        "offered": Count("pk"),
        "handled": Count("pk", filter=handled),
        "abandoned": Count("pk", filter=Q(abandoned_at__isnull=False, accepted_at__isnull=True)),
        "answered_in_time": Count(
            "pk", filter=handled & Q(accepted_at__lte=Coalesce("queued_at", "created_at") + _threshold())
        ),
        "wait_seconds": Sum(Seconds(F("accepted_at"), Coalesce("queued_at", "created_at")), filter=handled),
        "handle_count": Count("pk", filter=handled & resolved),
        "handle_seconds": Sum(
            F("talk_seconds") + F("hold_seconds") + F("wrap_up_seconds"),
            filter=handled & resolved,
            output_field=FloatField(),
        ),
        "resolved": Count("pk", filter=resolved),
        "resolved_first_time": Count("pk", filter=resolved & ~Exists(repeat_contact)),
        "transferred": Count("pk", filter=handled & Q(pk__in=transferred)),
        "with_due": Count("pk", filter=Q(first_response_due_at__isnull=False) | Q(resolution_due_at__isnull=False)),
        "breached": Count("pk", filter=first_breached | resolution_breached),
        "first_response_count": Count("pk", filter=first_response),
        "first_response_seconds_sum": Sum(Seconds(F("first_response_at"), F("created_at")), filter=first_response),
    }


class Interval(Func):
    """``make_interval(secs => n)``: a number of seconds as an interval, to add to a timestamp."""

    function = "make_interval"
    template = "make_interval(secs => %(expressions)s)"
    output_field = DurationField()


def _threshold():
    """The answer threshold of the interaction's queue (20 s without a queue): a join to the small queue table."""
    return Interval(Coalesce(F("queue__service_level_seconds"), Value(20)))


def survey_sums() -> dict[str, Any]:
    """The additive survey figures (on ``SurveyResponse``): answers per kind, satisfied, promoters, detractors."""
    csat = Q(survey__kind=SurveyKind.CSAT)
    nps = Q(survey__kind=SurveyKind.NPS)
    ces = Q(survey__kind=SurveyKind.CES)
    return {
        "csat_responses": Count("pk", filter=csat),
        "csat_satisfied": Count("pk", filter=csat & Q(score__gte=4)),
        "nps_responses": Count("pk", filter=nps),
        "nps_promoters": Count("pk", filter=nps & Q(score__gte=9)),
        "nps_detractors": Count("pk", filter=nps & Q(score__lte=6)),
        "ces_responses": Count("pk", filter=ces),
        "ces_sum": Sum("score", filter=ces),
    }


INTERACTION_SUMS = (
    "offered",
    "handled",
    "abandoned",
    "answered_in_time",
    "wait_seconds",
    "handle_count",
    "handle_seconds",
    "resolved",
    "resolved_first_time",
    "transferred",
    "with_due",
    "breached",
    "first_response_count",
    "first_response_seconds_sum",
)
SURVEY_SUMS = (
    "csat_responses",
    "csat_satisfied",
    "nps_responses",
    "nps_promoters",
    "nps_detractors",
    "ces_responses",
    "ces_sum",
)
SUMS = INTERACTION_SUMS + SURVEY_SUMS


def fraction(part: int | None, whole: int | None) -> float | None:
    """``part / whole``, or ``None`` when there is nothing to divide by."""
    return part / whole if whole else None


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)
