"""Supervisor dashboards: charts of the KPIs and tomorrow's staffing, for administrators and supervisors only.

Views only pick the ranges and call the selectors; each chart is drawn by ``reporting/dashboard.js`` (Chart.js
from our own static files: the pages work offline) from a JSON island, and each has its table and a CSV link
to the reports API beside it.
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from agents.access import Viewer, viewer_from_request
from config.replicas import replica_view
from crm.quality.selectors import agent_qa_scores

from .selectors import KpiQuery, agent_occupancy, contacts_by_category, kpi_rows
from .staffing import forecast_staffing


def _supervisor(request) -> Viewer:
    viewer = viewer_from_request(request)
    if not (viewer.unrestricted or viewer.is_supervisor):
        raise PermissionDenied(_("The dashboards are for supervisors and administrators."))
    return viewer


def _csv_link(name: str, **params) -> str:
    return f"{reverse(f'v1:reporting-api:{name}')}?{urlencode({**params, 'format': 'csv'})}"


def _context(request, title: str, **extra) -> dict:
    return {**admin.site.each_context(request), "title": title, **extra}


@login_required
@replica_view
def dashboard(request):
    """Volume and service level by hour (7 days), AHT and CSAT by day and FCR by category (30 days), and the
    agent leaderboard with occupancy (7 days)."""
    viewer = _supervisor(request)
    tz = settings.TIME_ZONE
    zone = ZoneInfo(tz)
    today = datetime.combine(timezone.localdate(timezone=zone), time.min, tzinfo=zone)
    end = today + timedelta(days=1)
    week, month = end - timedelta(days=7), end - timedelta(days=30)
    hourly = kpi_rows(viewer=viewer, query=KpiQuery(start=week, end=end, group_by="hour", tz=tz))
    daily = kpi_rows(viewer=viewer, query=KpiQuery(start=month, end=end, group_by="day", tz=tz))
    categories = contacts_by_category(viewer=viewer, query=KpiQuery(start=month, end=end, tz=tz))
    # per agent: whole past hours from the per-agent rollup (reporting.rollups_people), the edges raw
    agents = kpi_rows(viewer=viewer, query=KpiQuery(start=week, end=end, group_by="agent", tz=tz))
    occupancy = {row["agent"]: row for row in agent_occupancy(viewer=viewer, start=week, end=end)}
    agent_ids = [int(row["group"]) for row in agents if row["group"] is not None]
    # quality: completed reviews of the last 30 days (a handful per agent, so the week would often be empty)
    qa = agent_qa_scores(agent_ids=agent_ids, start=month, end=end)
    leaderboard = sorted(
        (
            {
                **row,
                "occupancy": occupancy.get(int(row["group"]), {}).get("occupancy"),
                "qa_score": round(qa[int(row["group"])][0], 1) if int(row["group"]) in qa else None,
            }
            for row in agents
            if row["group"] is not None
        ),
        key=lambda row: (-(row["handled"] or 0), row["label"]),
    )
    span = {"from": week.isoformat(), "to": end.isoformat(), "tz": tz}
    month_span = {**span, "from": month.isoformat()}
    charts = {
        "hourly": {
            "labels": [row["group"][5:16].replace("T", " ") for row in hourly],
            "offered": [row["offered"] for row in hourly],
            "service_level": [row["service_level"] for row in hourly],
        },
        "daily": {
            "labels": [row["group"] for row in daily],
            "aht": [row["aht_seconds"] for row in daily],
            "csat": [row["csat"] for row in daily],
        },
        "fcr": {
            "labels": [f"{row['category'] or '(none)'} / {row['disposition'] or '(none)'}" for row in categories[:20]],
            "fcr": [row["fcr"] for row in categories[:20]],
        },
    }
    return render(
        request,
        "reporting/dashboard.html",
        _context(
            request,
            _("Contact-center dashboard"),
            hourly=hourly,
            daily=daily,
            categories=categories,
            leaderboard=leaderboard,
            charts=charts,
            csv={
                "hourly": _csv_link("kpis", group_by="hour", **span),
                "daily": _csv_link("kpis", group_by="day", **month_span),
                "categories": _csv_link("categories", **month_span),
                "agents": _csv_link("kpis", group_by="agent", **span),
                "occupancy": _csv_link("occupancy", **span),
            },
        ),
    )


@login_required
@replica_view
def staffing(request):
    """Tomorrow's staffing per queue and hour: forecast volume (same weekday, recent weeks) through Erlang C."""
    viewer = _supervisor(request)
    tz = settings.TIME_ZONE
    tomorrow = timezone.localdate(timezone=ZoneInfo(tz)) + timedelta(days=1)
    rows = forecast_staffing(viewer=viewer, day=tomorrow, tz=tz)
    queues: dict[str, list] = {}
    for row in rows:
        queues.setdefault(row.queue_name, []).append(row)
    charts = {
        "staffing": {
            "labels": [f"{hour:02d}:00" for hour in range(24)],
            "queues": {
                name: [next((r.staffing.scheduled for r in items if r.hour == hour), 0) for hour in range(24)]
                for name, items in queues.items()
            },
        }
    }
    return render(
        request,
        "reporting/staffing.html",
        _context(
            request,
            _("Staffing for %(day)s") % {"day": date_format(tomorrow, "DATE_FORMAT")},
            day=tomorrow,
            rows=rows,
            charts=charts,
            weeks=settings.SWITCHBOARD_FORECAST_WEEKS,
            shrinkage_percent=round(settings.SWITCHBOARD_SHRINKAGE * 100),
        ),
    )
