"""The supervisor's landing dashboard in place of the admin index's list of models (which stays below it).

``install`` wraps ``admin.site.index`` (Django's own customisation point, as ``config.admin_navigation`` wraps
``get_app_list``): the index view, its staff-only gate and its grouped navigation stay Django's; the dashboard
only adds its figures to the context. Every figure links to the admin changelist (or report) behind it, filtered
as the figure counts; the changelists apply the same team scoping (``agents.admin_scope``), so a link never shows
more than the figure. The page follows the floor live over the wallboard's socket
(``reporting/static/reporting/admin_dashboard.js``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.urls import reverse
from django.utils.translation import gettext as _

from agents.access import viewer_from_request
from agents.choices import AgentStatus, TrainingStatus
from crm.choices import EscalationKind, InteractionStatus, ReviewStatus

from .selectors.dashboard import dashboard_figures
from .wallboard import percent_text, wait_text


def _changelist(model: str, **params: Any) -> str:
    url = reverse(f"admin:{model.replace('.', '_')}_changelist")
    return f"{url}?{urlencode(params)}" if params else url


def dashboard_context(request) -> dict[str, Any]:
    """The figures for the signed-in staff member's teams, each with its text and the link behind it."""
    viewer = viewer_from_request(request)
    figures = dashboard_figures(viewer=viewer)
    totals = figures["totals"]
    since = totals["midnight"].isoformat()
    queues = [
        {
            **queue,
            "oldest_text": wait_text(queue["oldest_waiting_seconds"]),
            "service_level_text": percent_text(queue.get("service_level_today")),
            "waiting_url": _changelist(
                "crm.interaction", status__exact=InteractionStatus.QUEUED, queue__id__exact=queue["id"]
            ),
            "today_url": _changelist("crm.interaction", queue__id__exact=queue["id"], created_at__gte=since),
        }
        for queue in figures["queues"]
    ]
    cards = [
        {
            "key": "waiting",
            "label": _("Waiting now"),
            "value": figures["waiting"],
            "detail": _("oldest %(wait)s") % {"wait": wait_text(figures["oldest_waiting_seconds"])},
            "url": _changelist("crm.interaction", status__exact=InteractionStatus.QUEUED),
        },
        {
            "key": "service_level",
            "label": _("Service level today"),
            "value": percent_text(totals["service_level"]),
            "detail": _("%(n)s answered in time") % {"n": totals["in_time"]},
            "url": reverse("reporting:dashboard"),
        },
        {
            "key": "abandonment",
            "label": _("Abandoned today"),
            "value": percent_text(totals["abandonment"]),
            "detail": _("%(n)s abandoned") % {"n": totals["abandoned"]},
            "url": _changelist("crm.interaction", status__exact=InteractionStatus.ABANDONED, created_at__gte=since),
        },
        {
            "key": "breaches",
            "label": _("SLA breaches, last hour"),
            "value": figures["breaches_last_hour"],
            "detail": "",
            "url": _changelist(
                "crm.escalation",
                kind__exact=EscalationKind.BREACH,
                step=0,
                created_at__gte=figures["hour_ago"].isoformat(),
            ),
        },
        {
            "key": "training",
            "label": _("Training expiring this week"),
            "value": figures["training_expiring"],
            "detail": "",
            "url": _changelist(
                "agents.trainingrecord",
                status__exact=TrainingStatus.PASSED,
                expires_at__gt=figures["now"].isoformat(),
                expires_at__lte=figures["week_end"].isoformat(),
            ),
        },
        {
            "key": "reviews",
            "label": _("Reviews to do"),
            "value": figures["reviews_to_do"],
            "detail": "",
            "url": _changelist("crm.review", status__exact=ReviewStatus.PENDING),
        },
    ]
    statuses = [
        {**row, "url": _changelist("agents.agent", status__exact=row["status"], is_active__exact=1)}
        for row in figures["agents_by_status"]
    ]
    on_break_or_due = [
        {**row, "url": reverse("admin:agents_agent_change", args=[row["id"]])} for row in figures["on_break_or_due"]
    ]
    return {
        "dashboard": {
            "live": viewer.unrestricted or viewer.is_supervisor,  # whom the wallboard's socket accepts
            "cards": cards,
            "queues": queues,
            "statuses": statuses,
            "on_break_or_due": on_break_or_due,
            "on_break_url": _changelist("agents.agent", status__exact=AgentStatus.ON_BREAK, is_active__exact=1),
            "break_due_url": _changelist("agents.breakduenotice", taken__isnull="True"),
            "links": [
                (_("Agent board"), reverse("admin:agents_agent_board")),
                (_("Wallboard"), reverse("wallboard")),
                (_("Reports"), reverse("reporting:dashboard")),
                (_("Staffing"), reverse("reporting:staffing")),
            ],
        },
    }


def install(site=admin.site) -> None:
    """Give ``site``'s index the dashboard's figures (the template is ``templates/admin/index.html``)."""
    index = site.index

    def index_with_dashboard(request, extra_context=None):
        return index(request, extra_context={**dashboard_context(request), **(extra_context or {})})

    site.index = index_with_dashboard
