"""The well-being break policy: which breaks a team's ``BreakPolicy`` says are due, and the sweep that records
each newly due one (a ``BreakDueNotice``) and announces it.

Policy evaluation needs interaction outcomes, which live in crm; agents must not import crm. So
``break_due_sweep`` takes the bad-outcome streaks as a function (``BadStreakSource``): crm's beat task
passes ``crm.wellbeing.services.bad_outcome_streaks``. ``break_policy_evaluate`` is pure: its inputs are
measured elsewhere, so tests and the board can ask it directly.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from .audit import supervisor_action_log
from .choices import AgentStatus, BreakDueReason, SupervisorActionKind
from .models import Agent, BreakDueNotice, BreakPolicy
from .selectors import ContinuousHandling, agent_continuous_handling
from .signals import break_due


def _announce_due(agent: Agent, notice: BreakDueNotice) -> None:
    transaction.on_commit(lambda: break_due.send_robust(sender=Agent, agent=agent, notice=notice))


@dataclass(frozen=True)
class BadStreak:
    """Consecutive badly-ended interactions up to now, and when the first of them ended."""

    count: int
    since: datetime


# Given agents and, per agent id, the moment they last rested, return their current bad-outcome streaks.
BadStreakSource = Callable[[Sequence[Agent], Mapping[int, datetime]], Mapping[int, BadStreak]]


@dataclass(frozen=True)
class BreakDue:
    reason: str
    since: datetime
    minutes: int
    detail: str


def break_policy_evaluate(
    *, policy: BreakPolicy, handling: ContinuousHandling, streak: BadStreak | None
) -> list[BreakDue]:
    """Which well-being breaks ``policy`` says are due, given measured handling and streak (no queries)."""
    due = []
    threshold = policy.continuous_handling_minutes * 60
    if handling.run_started_at is not None and handling.handling_seconds >= threshold:
        due.append(
            BreakDue(
                reason=BreakDueReason.CONTINUOUS_HANDLING,
                since=handling.run_started_at,
                minutes=policy.well_being_minutes,
                detail=f"{int(handling.handling_seconds // 60)} minutes of handling without a break",
            )
        )
    if policy.bad_outcome_streak and streak is not None and streak.count >= policy.bad_outcome_streak:
        due.append(
            BreakDue(
                reason=BreakDueReason.BAD_OUTCOMES,
                since=streak.since,
                minutes=policy.well_being_minutes,
                detail=f"{streak.count} difficult contacts in a row",
            )
        )
    return due


def break_due_sweep(*, bad_streaks: BadStreakSource | None = None, now: datetime | None = None) -> list[BreakDueNotice]:
    """Evaluate every logged-in agent under an active policy; record each newly due break once and announce it.

    Idempotent: a notice is keyed by (agent, reason, start of the run that made it due), so a second
    sweep over the same run finds it recorded and sends nothing.
    """
    now = now or timezone.now()
    agents = list(
        Agent.objects.filter(
            is_active=True,
            status__in=[AgentStatus.AVAILABLE, AgentStatus.BUSY, AgentStatus.WRAP_UP],
            team__break_policy__is_active=True,
        ).select_related("team__break_policy")
    )
    handling = {
        agent.pk: agent_continuous_handling(agent=agent, gap_minutes=agent.team.break_policy.reset_gap_minutes, now=now)
        for agent in agents
    }
    streaks: Mapping[int, BadStreak] = {}
    if bad_streaks is not None and agents:
        streaks = bad_streaks(agents, {pk: measured.rested_at for pk, measured in handling.items()})
    created = []
    for agent in agents:
        for due in break_policy_evaluate(
            policy=agent.team.break_policy, handling=handling[agent.pk], streak=streaks.get(agent.pk)
        ):
            with transaction.atomic():
                notice, is_new = BreakDueNotice.objects.get_or_create(
                    agent=agent,
                    reason=due.reason,
                    since=due.since,
                    defaults={"due_at": now, "minutes": due.minutes, "detail": due.detail},
                )
                if not is_new:
                    continue
                supervisor_action_log(
                    kind=SupervisorActionKind.BREAK_DUE, agent=agent, object_id=notice.pk, detail=due.detail
                )
                _announce_due(agent, notice)
            created.append(notice)
    return created
