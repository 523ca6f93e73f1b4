"""Contact-center KPIs, computed as SQL aggregates: one pass over the interactions of a range per report.

Every figure is a ``COUNT``/``SUM`` with a ``FILTER`` clause (``aggregate(filter=Q(...))``) over the
interactions **created** in the half-open range ``[start, end)``, grouped by one key (``GROUP_BY``); the
per-row work happens in PostgreSQL (or was done ahead in the hourly rollup, ``reporting.rollups``), and Python
only divides a group's sums into averages and rates. Rates are fractions
0–1, ``None`` where the denominator is 0 (no traffic is not 0 % or 100 %).

Definitions (also in the README):

- **offered**: interactions created in the range.
- **handled**: of those, answered by an agent (``accepted_at`` set).
- **abandoned**: left before an agent answered (``abandoned_at`` set, never accepted). A customer who hangs up
  while on hold was answered: handled, not abandoned.
- **abandonment_rate**: abandoned / offered.
- **service_level**: answered within the queue's ``service_level_seconds`` of queueing / (handled + abandoned):
  the "80 % in 20 s" of a voice queue; abandoned contacts count against it, unanswered open ones do not yet.
- **asa_seconds**: average of ``accepted_at − queued_at`` over handled contacts.
- **aht_seconds**: average of talk + hold + wrap-up seconds over handled contacts that are resolved.
- **fcr**: resolved contacts with no later contact from the same customer on the same category within
  ``SWITCHBOARD_FCR_DAYS`` days of the resolution / resolved contacts. The window may reach past the range's
  end, so the figure of the last N days is provisional until their window has passed.
- **transfer_rate**: handled contacts with at least one ``transferred`` event / handled.
- **sla_breach_rate**: contacts with a due time whose first response (or, failing one, resolution or
  abandonment, or now) came after ``first_response_due_at``, or whose resolution (or abandonment, or now) came
  after ``resolution_due_at`` / contacts with a due time. Computed from the due columns rather than from the
  sweep's ``crm.Escalation`` rows: the same breaches, but exact to the second and independent of whether the
  sweep has run yet (the escalation rows drive actions and the wallboard's "breaches in the last hour").
- **first_response_seconds**: average of ``first_response_at − created_at`` on the asynchronous channels
  (``ASYNC_CHANNELS``) where a first response was sent.
- **csat**: survey answers of kind csat scoring 4–5 / csat answers. **nps**: (answers 9–10 − answers 0–6) /
  nps answers, a fraction −1..1 (×100 for the usual score). **ces**: average ces answer. Surveys are attributed
  to their interaction's creation time, queue, channel, agent and team.
- **occupancy** (per agent, status log): (busy + wrap-up) / (available + busy + wrap-up) time;
  **utilisation**: (busy + wrap-up) / logged-in time (anything but offline, breaks included).
- **backlog**: interactions open at an instant (created at or before it, not yet resolved, abandoned or closed).

Grouping by day or hour uses the caller's time zone (``tz``); team means the team owning the queue.
"""

import functools
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from django.db import connections, transaction
from django.utils import timezone

from agents.access import Viewer
from agents.models import Agent, Team
from config.replicas import read_alias
from crm.inboxes.models import Inbox
from crm.routing.models import Queue
from crm.surveys.models import SurveyResponse

from ..rollups import rollup_plan, rollup_sums
from ..rollups_people import people_plan, people_sums
from ..sums import (
    GROUP_BY,
    SUMS,
    KpiQuery,
    _grouped,
    _round,
    fraction,
    interaction_sums,
    kpi_interactions,
    survey_sums,
)


def _key(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def kpi_row(sums: Mapping[str, Any]) -> dict[str, Any]:
    """The KPI fields of one group from its additive figures (missing figures count as 0)."""
    n = {name: sums.get(name) or 0 for name in SUMS}
    return {
        "offered": n["offered"],
        "handled": n["handled"],
        "abandoned": n["abandoned"],
        "abandonment_rate": _round(fraction(n["abandoned"], n["offered"])),
        "service_level": _round(fraction(n["answered_in_time"], n["handled"] + n["abandoned"])),
        "asa_seconds": _round(fraction(n["wait_seconds"], n["handled"]), 1),
        "aht_seconds": _round(fraction(n["handle_seconds"], n["handle_count"]), 1),
        "fcr": _round(fraction(n["resolved_first_time"], n["resolved"])),
        "transfer_rate": _round(fraction(n["transferred"], n["handled"])),
        "sla_breach_rate": _round(fraction(n["breached"], n["with_due"])),
        "first_response_seconds": _round(fraction(n["first_response_seconds_sum"], n["first_response_count"]), 1),
        "csat": _round(fraction(n["csat_satisfied"], n["csat_responses"])),
        "nps": _round(fraction(n["nps_promoters"] - n["nps_detractors"], n["nps_responses"])),
        "ces": _round(fraction(n["ces_sum"], n["ces_responses"]), 2),
        "csat_responses": n["csat_responses"],
        "nps_responses": n["nps_responses"],
        "ces_responses": n["ces_responses"],
    }


def raw_sums(*, viewer: Viewer, query: KpiQuery, now: datetime) -> dict[Any, dict[str, Any]]:
    """Additive figures per group key, straight from the interactions and their survey answers (two queries)."""
    zone = query.zone
    interactions = kpi_interactions(viewer=viewer, query=query)
    grouped = _grouped(interactions, query.group_by, zone)
    surveys = _grouped(
        SurveyResponse.objects.filter(survey__interaction__in=interactions.values("pk")).order_by(),
        query.group_by,
        zone,
        prefix="survey__interaction__",
    )
    alias = read_alias()  # a replica inside a report view (config.replicas): the SET LOCAL must reach it
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        # PostgreSQL's JIT compiles these aggregates for 0.7–2 s (measured, bench/kpis.py) to save less than that
        cursor.execute("SET LOCAL jit = off")
        if query.group_by == "total":
            counts = {None: grouped.aggregate(**interaction_sums(now=now, start=query.start))}
            answers = {None: surveys.aggregate(**survey_sums())}
        else:
            sums = interaction_sums(now=now, start=query.start)
            counts = {row.pop("group"): row for row in grouped.annotate(**sums)}
            answers = {row.pop("group"): row for row in surveys.annotate(**survey_sums())}
    return merge_sums(counts, answers, keep=counts.keys())


def merge_sums(*parts: Mapping[Any, Mapping[str, Any]], keep=None) -> dict[Any, dict[str, Any]]:
    """Add per-group figures of several parts; ``keep`` limits the groups to those keys (None: all)."""
    merged: dict[Any, dict[str, Any]] = {}
    for part in parts:
        for key, figures in part.items():
            if keep is not None and key not in keep:
                continue
            target = merged.setdefault(key, dict.fromkeys(SUMS, 0))
            for name, value in figures.items():
                if name in target and value is not None:
                    target[name] += value
    return merged


def kpi_rows(
    *, viewer: Viewer, query: KpiQuery, now: datetime | None = None, use_rollup: bool = True
) -> list[dict[str, Any]]:
    """One row per group, in group order, with every field of ``KPI_FIELDS`` plus ``group`` and ``label``.

    Whole hours already in the hourly rollup (``reporting.rollups``) are read from it when the query allows
    (see ``rollup_plan``), else from the per-agent rollup (``reporting.rollups_people``: agents, team-scoped
    viewers, agent filters and grouping); ``use_rollup=False`` reads everything raw; the rest straight from the interactions. Groups with no interaction do not appear
    (a day without traffic has no row); ``group_by="total"`` always gives exactly one row, nulls where nothing
    was measured.
    """
    if query.group_by not in GROUP_BY:
        raise ValueError(f"group_by must be one of {', '.join(GROUP_BY)}")
    now = now or timezone.now()
    plan = rollup_plan(viewer=viewer, query=query) if use_rollup else None
    read_rolled = rollup_sums
    if plan is None and use_rollup:
        # agents, team-scoped viewers, agent filters and grouping: the per-agent rollup (reporting.rollups_people)
        plan = people_plan(query=query)
        read_rolled = functools.partial(people_sums, viewer=viewer)
    if plan is None:
        sums = raw_sums(viewer=viewer, query=query, now=now)
    else:
        parts = [raw_sums(viewer=viewer, query=edge, now=now) for edge in plan.raw]
        rolled = read_rolled(query=plan.rolled)
        sums = merge_sums(rolled, *parts) if parts else rolled  # kpi_row reads a missing figure as 0
        # a group with survey answers but no interaction cannot happen raw; keep rollup parity with that
        sums = {key: figures for key, figures in sums.items() if figures.get("offered")}
    if query.group_by == "total" and not sums:
        sums = {None: {}}
    labels = _labels(query.group_by, [key for key in sums if key is not None])
    return [
        {
            "group": None if key is None else str(_key(key)),
            "label": _label(query.group_by, key, labels),
            **kpi_row(sums[key]),
        }
        for key in sorted(sums, key=lambda k: (k is None, k))
    ]


def _label(group_by: str, key: Any, labels: dict) -> str:
    if group_by == "total":
        return "All"
    if key is None:
        return "(none)"
    return labels.get(key, str(key)) if group_by in ("queue", "team", "agent", "inbox") else str(_key(key))


def _labels(group_by: str, keys: list) -> dict:
    """Display names of the grouped ids (one small query), so the big query joins nothing for them."""
    model = {"queue": Queue, "team": Team, "agent": Agent, "inbox": Inbox}.get(group_by)
    if model is None or not keys:
        return {}
    return dict(model.objects.filter(pk__in=keys).values_list("pk", "name"))
