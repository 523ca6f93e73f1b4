"""The supervisor wallboard: per queue what waits and for how long, and who is in which status.

Per queue also the service level of today and the SLA breaches of the last hour; per agent the time
in their status and a marker while on break. Live over ``/ws/wallboard/``. The page is drawn from the same snapshot the websocket sends first
(``crm.live.selectors.live_wallboard_snapshot``), so it is right before the socket connects and the two
never disagree on what a figure means. Administrators see every queue and agent; a team supervisor sees their
teams'; anybody else (a staff user who supervises no team included) gets 403.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from agents.access import viewer_from_request
from agents.choices import AgentStatus
from agents.models import Team
from crm.live.selectors import live_wallboard_snapshot


def wait_text(seconds: int | None) -> str:
    """``m:ss`` (or ``h:mm:ss``), as the live client writes it."""
    if seconds is None:
        return "—"
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def percent_text(fraction: float | None) -> str:
    return "—" if fraction is None else f"{fraction * 100:.0f} %"


@require_GET
@login_required
def wallboard(request: HttpRequest) -> HttpResponse:
    viewer = viewer_from_request(request)
    if not (viewer.unrestricted or viewer.is_supervisor):
        return render(
            request,
            "console/forbidden.html",
            {
                "title": _("Supervisors only"),
                "reason": _("The wallboard is for supervisors: administrators, or users who supervise a team."),
            },
            status=403,
        )
    snapshot = live_wallboard_snapshot(viewer=viewer)
    team_ids = {agent["team"] for agent in snapshot["agents"]} | {queue["team"] for queue in snapshot["queues"]}
    team_names = dict(Team.objects.filter(pk__in=[t for t in team_ids if t]).values_list("pk", "name"))
    labels = dict(AgentStatus.choices)
    queues = [
        {
            **queue,
            "oldest_text": wait_text(queue["oldest_waiting_seconds"]),
            "service_level_text": percent_text(queue.get("service_level_today")),
        }
        for queue in snapshot["queues"]
    ]
    now = timezone.now()
    agents = [
        {
            **agent,
            "team_name": team_names.get(agent["team"], ""),
            "status_label": labels.get(agent["status"], agent["status"]),
            "since": parse_datetime(agent["status_changed_at"]) if agent["status_changed_at"] else None,
            "in_status_text": (
                wait_text(max(0, (now - parse_datetime(agent["status_changed_at"])).total_seconds()))
                if agent["status_changed_at"]
                else "—"
            ),
            "break_ends": (
                parse_datetime(agent["on_break"]["ends_at"])
                if agent.get("on_break") and agent["on_break"]["ends_at"]
                else None
            ),
        }
        for agent in sorted(snapshot["agents"], key=lambda a: a["name"].lower())
    ]
    counts = [
        {"status": status, "label": label, "count": sum(1 for a in agents if a["status"] == status)}
        for status, label in AgentStatus.choices
    ]
    return render(
        request,
        "reporting/wallboard.html",
        {
            "queues": queues,
            "inboxes": [
                {**inbox, "oldest_text": wait_text(inbox["oldest_waiting_seconds"])} for inbox in snapshot["inboxes"]
            ],
            "agents": agents,
            "status_counts": counts,
            "team_names": {str(pk): name for pk, name in team_names.items()},
        },
    )
