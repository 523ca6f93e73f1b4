"""What reads agents, teams and skills: the API, the console and reporting query through these."""

from collections.abc import Mapping
from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from .access import Viewer
from .choices import AgentStatus
from .models import Agent, AgentSkill, AgentStatusLog, Skill, Team


def agent_list(*, viewer: Viewer, filters: Mapping | None = None) -> QuerySet[Agent]:
    """The agents ``viewer`` may see, with user, team and skills loaded (no N+1 when listing).

    Unrestricted viewers see everyone; supervisors and team-bound API keys see their teams' agents (a
    supervisor also sees themselves); a plain agent sees only themselves; anybody else sees nobody.
    ``filters`` takes the API's query parameters (team, status, skill, is_active, q).
    """
    agents = Agent.objects.select_related("user", "team").prefetch_related(
        Prefetch("agent_skills", queryset=AgentSkill.objects.select_related("skill"))
    )
    if not viewer.unrestricted:
        visible = Q(pk__in=[])
        if not viewer.is_agent_only and viewer.team_ids:
            visible |= Q(team_id__in=viewer.team_ids)
        if viewer.agent_id is not None:
            visible |= Q(pk=viewer.agent_id)
        agents = agents.filter(visible)
    if filters:
        from .api.filters import AgentFilter  # the API's filter definitions are the one vocabulary for filters

        filterset = AgentFilter(filters, queryset=agents)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        agents = filterset.qs
    return agents


def agent_status_log(*, agent: Agent) -> QuerySet[AgentStatusLog]:
    """An agent's presence changes, newest first."""
    return AgentStatusLog.objects.filter(agent=agent).order_by("-changed_at", "-id")


_DURATIONS_SQL = """
WITH anchor AS (
    -- the last change at or before the window start: the status the window opens in
    SELECT max(changed_at) AS at FROM agents_agentstatuslog WHERE agent_id = %(agent)s AND changed_at <= %(start)s
), changes AS (
    SELECT id, status, changed_at FROM agents_agentstatuslog
    WHERE agent_id = %(agent)s AND changed_at < %(stop)s
      AND changed_at >= coalesce((SELECT at FROM anchor), '-infinity'::timestamptz)
    UNION ALL
    -- before its first logged change the agent was in that change's previous status (offline when created);
    -- with no change logged at all, in its current status since it was created
    SELECT 0,
           CASE WHEN f.changed_at IS NULL THEN a.status ELSE coalesce(nullif(f.previous_status, ''), 'offline') END,
           least(a.created_at, f.changed_at)
    FROM agents_agent a
    LEFT JOIN (
        SELECT previous_status, changed_at FROM agents_agentstatuslog WHERE agent_id = %(agent)s
        ORDER BY changed_at, id LIMIT 1
    ) f ON true
    WHERE a.id = %(agent)s
), spans AS (
    SELECT status, changed_at AS since, lead(changed_at) OVER (ORDER BY changed_at, id) AS until FROM changes
)
SELECT status,
       sum(extract(epoch FROM least(coalesce(until, %(stop)s), %(stop)s) - greatest(since, %(start)s)))
FROM spans
WHERE since < %(stop)s AND coalesce(until, %(stop)s) > %(start)s
GROUP BY status
"""


def agent_status_durations(*, agent: Agent, start: datetime, end: datetime) -> dict[str, float]:
    """Seconds the agent spent in each status between ``start`` and ``end``, measured from the status log.

    Each logged change lasts until the next one (``LEAD(changed_at)``); spans are clipped to the window,
    and the window is clipped to now, since the current status has lasted only until now. Every status is
    in the result, 0.0 when the agent was never in it. Reporting builds occupancy on this.
    """
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise ValueError("start and end must be timezone-aware")
    durations = dict.fromkeys(AgentStatus.values, 0.0)
    stop = min(end, timezone.now())
    if stop <= start:
        return durations
    with connection.cursor() as cursor:
        cursor.execute(_DURATIONS_SQL, {"agent": agent.pk, "start": start, "stop": stop})
        for status, seconds in cursor.fetchall():
            durations[status] = float(seconds)
    return durations


def team_visible(*, viewer: Viewer) -> QuerySet[Team]:
    """The teams ``viewer`` may see: all when unrestricted, otherwise the teams it belongs to or supervises."""
    if viewer.unrestricted:
        return Team.objects.all()
    return Team.objects.filter(id__in=viewer.team_ids)


def team_list(*, viewer: Viewer) -> QuerySet[Team]:
    """The teams ``viewer`` may see, with their supervisors and agent count loaded."""
    return (
        team_visible(viewer=viewer)
        .annotate(agent_count=Count("agents", distinct=True))
        .prefetch_related(Prefetch("supervisors", queryset=get_user_model().objects.only("id").order_by("id")))
    )


def skill_list(*, q: str | None = None) -> QuerySet[Skill]:
    """Every skill (they are the center's shared vocabulary, not team-bound), optionally matching ``q`` by name."""
    skills = Skill.objects.all()
    if q:
        skills = skills.filter(name__icontains=q)
    return skills
