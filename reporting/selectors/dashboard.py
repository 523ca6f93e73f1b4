"""The figures of the supervisor's landing dashboard (``/admin/``): today, for the viewer's teams (all for
administrators), each computed by one query whatever the number of rows behind it.

The open-work and per-queue figures are the wallboard's own (``crm.live.selectors``), so the dashboard, the
wallboard and the socket never disagree on what "waiting" or "service level" means; the rest are plain
aggregates. Nothing here loops over interactions, agents or records in Python.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from agents.access import Viewer
from agents.choices import AgentStatus, TrainingStatus
from agents.models import Agent, BreakDueNotice, TrainingRecord
from crm.choices import EscalationKind, ReviewStatus
from crm.interactions.models import Interaction
from crm.live.selectors import _Seconds, live_queue_stats, live_queue_today  # the wallboard's own figures
from crm.quality.models import Review
from crm.sla.models import Escalation

# A due break that was not taken within this long is stale (the agent board's own horizon).
BREAK_DUE_HORIZON = timedelta(hours=4)
TRAINING_EXPIRY_DAYS = 7
ON_BREAK_OR_DUE_SHOWN = 20  # names listed on the dashboard; the count is exact, the list a glance


def _scoped(queryset, team_ids: set[int] | None, path: str):
    return queryset if team_ids is None else queryset.filter(**{f"{path}__in": sorted(team_ids)})


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def dashboard_today_totals(*, team_ids: set[int] | None, now: datetime) -> dict[str, Any]:
    """Service level and abandonment of the interactions created since local midnight (the wallboard's
    definition: answered within the queue's ``service_level_seconds`` of queueing / answered + abandoned); one
    aggregate."""
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    today = _scoped(Interaction.objects.filter(created_at__gte=midnight), team_ids, "queue__team_id")
    answer_by = Coalesce("queued_at", "created_at") + _Seconds(F("queue__service_level_seconds"))
    sums = today.aggregate(
        in_time=Count("pk", filter=Q(accepted_at__isnull=False, accepted_at__lte=answer_by)),
        answered=Count("pk", filter=Q(accepted_at__isnull=False)),
        abandoned=Count("pk", filter=Q(accepted_at__isnull=True, abandoned_at__isnull=False)),
        created=Count("pk"),
    )
    counted = sums["answered"] + sums["abandoned"]
    return {
        **sums,
        "midnight": midnight,
        "service_level": _ratio(sums["in_time"], counted),
        "abandonment": _ratio(sums["abandoned"], counted),
    }


def dashboard_figures(*, viewer: Viewer, now: datetime | None = None) -> dict[str, Any]:
    """Everything the landing dashboard shows, for ``viewer``'s teams (``viewer.admin_team_ids``: None is all).

    Eight queries, independent of the number of queues, interactions, agents, records or reviews.
    """
    now = now or timezone.now()
    team_ids = viewer.admin_team_ids
    queue_today = live_queue_today(team_ids=team_ids, now=now)
    queues = [{**stats, **queue_today.get(stats["id"], {})} for stats in live_queue_stats(team_ids=team_ids)]
    totals = dashboard_today_totals(team_ids=team_ids, now=now)
    hour_ago = now - timedelta(hours=1)
    breaches = _scoped(
        Escalation.objects.filter(kind=EscalationKind.BREACH, step=0, created_at__gte=hour_ago),
        team_ids,
        "interaction__queue__team_id",
    ).count()
    agents = _scoped(Agent.objects.filter(is_active=True), team_ids, "team_id")
    by_status = dict(agents.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n"))
    due = BreakDueNotice.objects.filter(
        agent_id=OuterRef("pk"), taken__isnull=True, due_at__lte=now, due_at__gte=now - BREAK_DUE_HORIZON
    )
    on_break_or_due = list(
        agents.annotate(break_due=Exists(due))
        .filter(Q(status=AgentStatus.ON_BREAK) | Q(break_due=True))
        .order_by("name", "pk")
        .values("id", "name", "status", "break_due")[:ON_BREAK_OR_DUE_SHOWN]
    )
    week_end = now + timedelta(days=TRAINING_EXPIRY_DAYS)
    training_expiring = _scoped(
        TrainingRecord.objects.filter(status=TrainingStatus.PASSED, expires_at__gt=now, expires_at__lte=week_end),
        team_ids,
        "agent__team_id",
    ).count()
    reviews_to_do = _scoped(Review.objects.filter(status=ReviewStatus.PENDING), team_ids, "agent__team_id").count()
    return {
        "now": now,
        "queues": queues,
        # totals of the per-queue figures (already aggregated: a center has tens of queues, not rows of work)
        "waiting": sum(queue["waiting"] for queue in queues),
        "oldest_waiting_seconds": max(
            (q["oldest_waiting_seconds"] for q in queues if q["oldest_waiting_seconds"] is not None), default=None
        ),
        "totals": totals,
        "breaches_last_hour": breaches,
        "hour_ago": hour_ago,
        "agents_by_status": [
            {"status": value, "label": label, "count": by_status.get(value, 0)} for value, label in AgentStatus.choices
        ],
        "on_break_or_due": on_break_or_due,
        "training_expiring": training_expiring,
        "week_end": week_end,
        "reviews_to_do": reviews_to_do,
    }
