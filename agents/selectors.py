"""What reads agents, teams and skills: the API, the console and reporting query through these."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from .access import Viewer
from .choices import PENDING_BREAK_STATUSES, AgentStatus, BreakStatus, TrainingStatus
from .models import (
    Agent,
    AgentSkill,
    AgentStatusLog,
    Break,
    BreakDueNotice,
    BreakPolicy,
    Skill,
    Team,
    TrainingCourse,
    TrainingRecord,
)


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


# --- training ------------------------------------------------------------------------------------


def valid_pass_q(*, now: datetime | None = None, prefix: str = "") -> Q:
    """A training record that is a pass still in force at ``now``."""
    now = now or timezone.now()
    return Q(**{f"{prefix}status": TrainingStatus.PASSED}) & (
        Q(**{f"{prefix}expires_at__isnull": True}) | Q(**{f"{prefix}expires_at__gt": now})
    )


def agent_skill_certified_q(*, now: datetime | None = None) -> Q:
    """Filter on ``AgentSkill``: the row counts for routing, i.e. no active course certifies its skill, or the
    agent holds a valid pass of one that does."""
    gated = TrainingCourse.objects.filter(skill_id=OuterRef("skill_id"), is_active=True)
    certified = TrainingRecord.objects.filter(
        valid_pass_q(now=now),
        agent_id=OuterRef("agent_id"),
        course__skill_id=OuterRef("skill_id"),
        course__is_active=True,
    )
    return ~Q(Exists(gated)) | Q(Exists(certified))


EXPIRING_DAYS = 30


@dataclass(frozen=True)
class TrainingStatusRow:
    """One course as the agent's console shows it. ``state``: to_do, overdue, valid, expiring, expired, failed."""

    record: TrainingRecord
    state: str
    days_left: int | None


def agent_training_status(*, agent: Agent, now: datetime | None = None) -> list[TrainingStatusRow]:
    """The agent's latest record of each course, with what it means now (console "my training")."""
    now = now or timezone.now()
    latest: dict[int, TrainingRecord] = {}
    for record in (
        TrainingRecord.objects.filter(agent=agent).select_related("course__skill").order_by("-assigned_at", "-id")
    ):
        latest.setdefault(record.course_id, record)
    rows = []
    for record in latest.values():
        days_left = None
        if record.status in (TrainingStatus.ASSIGNED, TrainingStatus.IN_PROGRESS):
            state = "overdue" if record.due_at and record.due_at < now else "to_do"
        elif record.status == TrainingStatus.PASSED and (record.expires_at is None or record.expires_at > now):
            days_left = (record.expires_at - now).days if record.expires_at else None
            state = "expiring" if days_left is not None and days_left < EXPIRING_DAYS else "valid"
        elif record.status == TrainingStatus.FAILED:
            state = "failed"
        else:
            state = "expired"
        rows.append(TrainingStatusRow(record=record, state=state, days_left=days_left))
    order = {"overdue": 0, "expired": 1, "expiring": 2, "to_do": 3, "failed": 4, "valid": 5}
    return sorted(rows, key=lambda row: (order[row.state], row.record.course.title))


def training_record_list(*, agent: Agent) -> QuerySet[TrainingRecord]:
    """Every training record of the agent, newest first (the API's history)."""
    return TrainingRecord.objects.filter(agent=agent).select_related("course").order_by("-assigned_at", "-id")


# --- breaks --------------------------------------------------------------------------------------

HANDLING_STATUSES = frozenset({AgentStatus.BUSY, AgentStatus.WRAP_UP})
RESTING_STATUSES = frozenset({AgentStatus.ON_BREAK, AgentStatus.OFFLINE})
# How far back continuous handling is measured: nobody handles for longer without a logout.
HANDLING_LOOKBACK = timedelta(hours=16)


@dataclass(frozen=True)
class ContinuousHandling:
    """The agent's current run of work: when it began, busy/wrap-up seconds in it, and when they last rested."""

    run_started_at: datetime | None
    handling_seconds: float
    rested_at: datetime


def agent_continuous_handling(*, agent: Agent, gap_minutes: int, now: datetime | None = None) -> ContinuousHandling:
    """Busy and wrap-up time since the agent last rested, from the status log.

    A break or a logout ends the run, and so does a finished spell of ``available`` lasting at least
    ``gap_minutes`` (a short wait between contacts is no rest). The current available spell ends the run
    only once it is long enough.
    """
    now = now or timezone.now()
    start = now - HANDLING_LOOKBACK
    anchor = AgentStatusLog.objects.filter(agent=agent, changed_at__lte=start).order_by("-changed_at", "-id").first()
    rows = list(
        AgentStatusLog.objects.filter(agent=agent, changed_at__gt=start, changed_at__lte=now)
        .order_by("changed_at", "id")
        .values_list("status", "changed_at", "previous_status")
    )
    if anchor is not None:
        rows.insert(0, (anchor.status, start, anchor.previous_status))
    elif rows and (rows[0][2] or AgentStatus.OFFLINE) in RESTING_STATUSES:
        rows.insert(0, (rows[0][2] or AgentStatus.OFFLINE, start, ""))  # logged in within the window
    gap = timedelta(minutes=gap_minutes)
    run_started_at, handling, rested_at = None, 0.0, start
    for index, (status, since, _) in enumerate(rows):
        until = rows[index + 1][1] if index + 1 < len(rows) else now
        if status in RESTING_STATUSES:
            run_started_at, handling, rested_at = None, 0.0, until
        elif status == AgentStatus.AVAILABLE:
            if until - since >= gap:
                run_started_at, handling = None, 0.0
        else:
            run_started_at = run_started_at or since
            handling += (until - since).total_seconds()
    return ContinuousHandling(run_started_at=run_started_at, handling_seconds=handling, rested_at=rested_at)


def team_break_load(*, team: Team) -> tuple[int, int]:
    """(agents of the team on break, agents of the team logged in): what the break cap is judged on."""
    counts = Agent.objects.filter(team=team, is_active=True).aggregate(
        on_break=Count("pk", filter=Q(status=AgentStatus.ON_BREAK)),
        logged_in=Count("pk", filter=~Q(status=AgentStatus.OFFLINE)),
    )
    return counts["on_break"], counts["logged_in"]


def break_policy_for(*, agent: Agent) -> BreakPolicy | None:
    if agent.team_id is None:
        return None
    return BreakPolicy.objects.filter(team_id=agent.team_id, is_active=True).first()


@dataclass(frozen=True)
class BreakState:
    """What the console shows about breaks: the running break (and when it is planned to end), the break
    waiting to be taken, and a well-being break that is due and not yet taken."""

    current: Break | None
    ends_at: datetime | None
    remaining_seconds: int | None
    pending: Break | None
    due: BreakDueNotice | None


def agent_break_state(*, agent: Agent, now: datetime | None = None) -> BreakState:
    now = now or timezone.now()
    breaks = list(
        Break.objects.filter(
            agent=agent, status__in=[BreakStatus.STARTED, *sorted(PENDING_BREAK_STATUSES)]
        ).select_related("break_type")
    )
    current = next((b for b in breaks if b.status == BreakStatus.STARTED), None)
    pending = next((b for b in breaks if b.status != BreakStatus.STARTED), None)
    ends_at = current.started_at + timedelta(minutes=current.minutes) if current else None
    remaining = max(int((ends_at - now).total_seconds()), 0) if ends_at else None
    due = None
    if current is None:
        due = BreakDueNotice.objects.filter(
            agent=agent, taken__isnull=True, due_at__gte=now - timedelta(hours=4)
        ).first()
    return BreakState(current=current, ends_at=ends_at, remaining_seconds=remaining, pending=pending, due=due)


def break_list(*, viewer: Viewer) -> QuerySet[Break]:
    """The breaks ``viewer`` may see: their own (agent), their teams' (supervisor, team key), or all."""
    breaks = Break.objects.select_related("agent", "break_type")
    if viewer.unrestricted:
        return breaks
    visible = Q(pk__in=[])
    if not viewer.is_agent_only and viewer.team_ids:
        visible |= Q(agent__team_id__in=viewer.team_ids)
    if viewer.agent_id is not None:
        visible |= Q(agent_id=viewer.agent_id)
    return breaks.filter(visible)


def viewer_supervises(*, viewer: Viewer, agent: Agent) -> bool:
    """May ``viewer`` manage ``agent``'s breaks and training: administrators / unbound keys, or the agent's team's
    supervisors and team-bound keys. An agent never supervises themselves."""
    if viewer.unrestricted:
        return True
    return not viewer.is_agent_only and agent.team_id is not None and agent.team_id in viewer.team_ids


# --- the supervisor's board ----------------------------------------------------------------------


@dataclass(frozen=True)
class BoardRow:
    agent: Agent
    seconds_in_status: int | None
    continuous_handling_seconds: int
    breaks_today: int
    occupancy_today: float | None
    current_break: Break | None
    pending_break: Break | None
    break_due: BreakDueNotice | None


def agent_board(*, agents: Iterable[Agent], now: datetime | None = None) -> list[BoardRow]:
    """The live board: per agent, time in status, continuous handling, breaks and occupancy today.

    Occupancy = (busy + wrap-up) / (available + busy + wrap-up) since midnight (in the current time zone),
    from ``agent_status_durations``; None before the agent was logged in today.
    """
    now = now or timezone.now()
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    agents = list(agents)
    ids = [agent.pk for agent in agents]
    breaks_today = dict(
        Break.objects.filter(agent_id__in=ids, started_at__gte=midnight)
        .values("agent_id")
        .annotate(n=Count("pk"))
        .values_list("agent_id", "n")
    )
    open_breaks: dict[int, dict[str, Break]] = {}
    for brk in Break.objects.filter(
        agent_id__in=ids, status__in=[BreakStatus.STARTED, *sorted(PENDING_BREAK_STATUSES)]
    ).select_related("break_type"):
        open_breaks.setdefault(brk.agent_id, {})["current" if brk.status == BreakStatus.STARTED else "pending"] = brk
    dues = {
        notice.agent_id: notice
        for notice in BreakDueNotice.objects.filter(
            agent_id__in=ids, taken__isnull=True, due_at__gte=now - timedelta(hours=4)
        ).order_by("due_at")
    }
    policies = dict(BreakPolicy.objects.filter(is_active=True).values_list("team_id", "reset_gap_minutes"))
    rows = []
    for agent in agents:
        durations = agent_status_durations(agent=agent, start=midnight, end=now)
        working = durations[AgentStatus.BUSY] + durations[AgentStatus.WRAP_UP]
        logged = working + durations[AgentStatus.AVAILABLE]
        handling = agent_continuous_handling(agent=agent, gap_minutes=policies.get(agent.team_id, 5), now=now)
        rows.append(
            BoardRow(
                agent=agent,
                seconds_in_status=int((now - agent.status_changed_at).total_seconds())
                if agent.status_changed_at
                else None,
                continuous_handling_seconds=int(handling.handling_seconds),
                breaks_today=breaks_today.get(agent.pk, 0),
                occupancy_today=working / logged if logged else None,
                current_break=open_breaks.get(agent.pk, {}).get("current"),
                pending_break=open_breaks.get(agent.pk, {}).get("pending"),
                break_due=dues.get(agent.pk),
            )
        )
    return rows
