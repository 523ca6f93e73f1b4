"""Voice self-service figures: how many calls the IVR answered on its own, and where waiting callers gave up.

``ivr_containment`` = calls that ended in the IVR without reaching an agent / calls, over the calls that started in
``[start, end)`` and have ended. Abandonment by IVR step: the callers who hung up while waiting for an agent,
counted by the last IVR step they took (``menu:choice``), so a menu that leads to long waits shows up.

Scope: a call that never left the IVR has no queue and no agent, so beside the interactions a viewer may read
(``kpi_scope_q``) a team's supervisors and keys see the calls of the voice lines (inboxes) feeding their queues;
an agent sees the calls they answered. Filters as the KPI report.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from agents.access import Viewer
from crm.calls.models import Call, CallOutcome

from ..sums import KpiQuery, kpi_interactions


def ivr_figures(*, viewer: Viewer, query: KpiQuery) -> dict[str, Any]:
    everyone = Viewer(unrestricted=True, team_ids=frozenset())
    interactions = kpi_interactions(viewer=everyone, query=query).filter(channel="voice")
    calls = Call.objects.filter(interaction__in=interactions.values("pk"))
    if not viewer.unrestricted:
        visible = Q(interaction__in=kpi_interactions(viewer=viewer, query=query).values("pk"))
        if not viewer.is_agent_only:
            visible |= Q(inbox__queue__team_id__in=viewer.team_ids)
        calls = calls.filter(visible)
    ended = calls.exclude(outcome=CallOutcome.IN_PROGRESS)
    totals = ended.aggregate(
        calls=Count("pk"),
        contained=Count("pk", filter=Q(outcome=CallOutcome.SELF_SERVICE)),
        abandoned=Count("pk", filter=Q(outcome=CallOutcome.ABANDONED)),
        answered=Count("pk", filter=Q(outcome=CallOutcome.ANSWERED)),
    )
    by_step = (
        ended.filter(outcome=CallOutcome.ABANDONED)
        .values("abandoned_at_step")
        .annotate(abandoned=Count("pk"))
        .order_by("-abandoned", "abandoned_at_step")
    )
    count = totals["calls"]
    return {
        **totals,
        "ivr_containment": round(totals["contained"] / count, 4) if count else None,
        "abandoned_by_step": [
            {"step": row["abandoned_at_step"] or "(no IVR step)", "abandoned": row["abandoned"]} for row in by_step
        ],
    }
