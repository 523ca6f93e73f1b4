"""When the demo center is open, how busy each hour is, when each agent works, and what their presence log says.

All times are UTC: the demo center sits in UTC (``settings.TIME_ZONE``) and keeps its opening hours there.
"""

import random
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from agents.choices import AGENT_STATUS_TRANSITIONS, AgentStatus
from config.choices import Channel

# weekday (Monday = 0) → (opening hour, closing hour); Sunday closed.
OPENING_HOURS = {0: (8, 20), 1: (8, 20), 2: (8, 20), 3: (8, 20), 4: (8, 20), 5: (9, 17)}
# Mondays are the busiest, weekends quiet.
DAY_WEIGHTS = (1.2, 1.1, 1.0, 1.0, 0.9, 0.45, 0.25)
# The classic two humps: late morning and early afternoon.
HOUR_WEIGHTS = {
    8: 0.6,
    9: 1.0,
    10: 1.25,
    11: 1.2,
    12: 0.9,
    13: 1.0,
    14: 1.15,
    15: 1.1,
    16: 0.95,
    17: 0.75,
    18: 0.55,
    19: 0.4,
}
# Voice and chat need somebody on the line now: customers only reach them while the center is open.
# E-mail, SMS and social messages arrive around the clock (much less at night) and wait for the morning.
LIVE_CHANNELS = frozenset({Channel.VOICE, Channel.CHAT})
OFF_HOURS_WEIGHT = 0.08
# One bad morning: a service outage floods the lines (the charts then have something to explain).
OUTAGE_HOURS = (10, 14)
OUTAGE_FACTOR = 2.5


@dataclass(frozen=True)
class Slot:
    start: datetime
    seconds: int
    live_weight: float
    async_weight: float


def hour_slots(*, start: datetime, now: datetime, outage_day: date | None) -> list[Slot]:
    """The hours from ``start`` to ``now`` with how many contacts each draws, relatively (last one may be partial)."""
    slots: list[Slot] = []
    at = start.replace(minute=0, second=0, microsecond=0)
    while at < now:
        end = min(at + timedelta(hours=1), now)
        begin = max(at, start)
        if begin < end:
            fraction = (end - begin).total_seconds() / 3600
            open_now = is_open(at)
            weight = DAY_WEIGHTS[at.weekday()] * fraction
            if at.date() == outage_day and OUTAGE_HOURS[0] <= at.hour < OUTAGE_HOURS[1]:
                weight *= OUTAGE_FACTOR
            hour_weight = HOUR_WEIGHTS.get(at.hour, OFF_HOURS_WEIGHT) if open_now else OFF_HOURS_WEIGHT
            slots.append(
                Slot(
                    start=begin,
                    seconds=max(1, int((end - begin).total_seconds())),
                    live_weight=weight * hour_weight if open_now else 0.0,
                    async_weight=weight * hour_weight,
                )
            )
        at += timedelta(hours=1)
    return slots


def is_open(at: datetime) -> bool:
    opening = OPENING_HOURS.get(at.weekday())
    return opening is not None and opening[0] <= at.hour < opening[1]


def is_outage(at: datetime, outage_day: date | None) -> bool:
    return at.date() == outage_day and OUTAGE_HOURS[0] <= at.hour < OUTAGE_HOURS[1]


# --- shifts ------------------------------------------------------------------------------------------

# (start, end, [(break start, minutes, reason)]) as times of day
EARLY = (
    time(8, 0),
    time(16, 30),
    [(time(10, 0), 15, "Short break"), (time(12, 0), 30, "Lunch"), (time(14, 30), 15, "Short break")],
)
LATE = (
    time(11, 30),
    time(20, 0),
    [(time(13, 30), 15, "Short break"), (time(16, 0), 30, "Lunch"), (time(18, 15), 15, "Short break")],
)
SATURDAY = (
    time(9, 0),
    time(17, 0),
    [(time(11, 0), 15, "Short break"), (time(13, 0), 30, "Lunch"), (time(15, 0), 15, "Short break")],
)
ABSENCE_RATE = 0.04  # sick days and holidays
BREAK_JITTER_MINUTES = 10


@dataclass
class Shift:
    start: datetime
    end: datetime
    breaks: list[tuple[datetime, datetime, str]]


@dataclass
class Roster:
    """One agent's working days, with the lookups routing needs."""

    shifts: dict[date, Shift] = field(default_factory=dict)

    def next_free(self, at: datetime, *, horizon_days: int = 9) -> datetime | None:
        """The first moment at or after ``at`` when the agent is at work and not on a break."""
        for offset in range(horizon_days):
            shift = self.shifts.get((at + timedelta(days=offset)).date())
            if shift is None:
                continue
            candidate = max(at, shift.start)
            for begin, end, _ in shift.breaks:  # sorted and disjoint: one pass suffices
                if begin <= candidate < end:
                    candidate = end
            if candidate < shift.end:
                return candidate
        return None

    def overlaps_break(self, begin: datetime, end: datetime) -> bool:
        shift = self.shifts.get(begin.date())
        return shift is not None and any(b < end and begin < e for b, e, _ in shift.breaks)

    def shift_at(self, at: datetime) -> Shift | None:
        shift = self.shifts.get(at.date())
        return shift if shift is not None and shift.start <= at < shift.end else None


def build_roster(*, rng: random.Random, index: int, start: datetime, now: datetime) -> Roster:
    """Early or late weekday shifts; every third agent also works Saturdays and takes Wednesdays off instead."""
    roster = Roster()
    pattern = EARLY if index % 2 == 0 else LATE
    works_saturday = index % 3 == 0
    day = start.date()
    while day <= now.date():
        weekday = day.weekday()
        template = None
        if weekday == 5:
            template = SATURDAY if works_saturday else None
        elif weekday < 5 and not (works_saturday and weekday == 2):
            template = pattern
        if template is not None and rng.random() >= ABSENCE_RATE:
            begin, end, breaks = template
            shift_start = datetime.combine(day, begin, tzinfo=start.tzinfo)
            shift = Shift(start=shift_start, end=datetime.combine(day, end, tzinfo=start.tzinfo), breaks=[])
            for at, minutes, reason in breaks:
                b = datetime.combine(day, at, tzinfo=start.tzinfo) + timedelta(
                    minutes=rng.randint(-BREAK_JITTER_MINUTES, BREAK_JITTER_MINUTES)
                )
                shift.breaks.append((b, b + timedelta(minutes=minutes), reason))
            roster.shifts[day] = shift
        day += timedelta(days=1)
    return roster


# --- presence log ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusChange:
    at: datetime
    status: str
    previous: str
    reason: str


def _legal_path(previous: str, status: str) -> list[str]:
    """The statuses to pass through from ``previous`` to ``status`` by allowed steps (shortest way).

    E.g. available → wrap_up is not a step (wrap-up follows work), so it goes available → busy → wrap_up.
    """
    paths = {previous: []}
    frontier = [previous]
    while frontier and status not in paths:
        next_frontier = []
        for current in frontier:
            for step in sorted(AGENT_STATUS_TRANSITIONS[current]):
                if step not in paths:
                    paths[step] = [*paths[current], step]
                    next_frontier.append(step)
        frontier = next_frontier
    return paths[status]


def presence_log(*, roster: Roster, work: list[tuple[datetime, datetime, str]], now: datetime) -> list[StatusChange]:
    """The agent's status changes, day by day: logged in at shift start, busy while handling, wrap-up after,
    on break during breaks, offline once the shift is over and the last contact is finished. Nothing after ``now``.

    ``work`` holds ``(start, end, status)`` intervals, status ``busy`` or ``wrap_up``.
    """
    work = sorted(work)
    starts = [w[0] for w in work]
    changes: list[StatusChange] = []
    previous = AgentStatus.OFFLINE
    for day in sorted(roster.shifts):
        shift = roster.shifts[day]
        if shift.start >= now:
            break
        # the intervals begun during this shift (an agent finishes the contact in hand after the shift ends)
        lo, hi = bisect_right(starts, shift.start - timedelta(microseconds=1)), bisect_right(starts, shift.end)
        todays = [w for w in work[lo:hi] if w[0] >= shift.start]
        end = max([shift.end, *(w[1] for w in todays)])
        points = {shift.start, end}
        for begin, finish, _ in shift.breaks:
            points |= {begin, finish}
        for begin, finish, _ in todays:
            points |= {begin, finish}

        def status_at(at: datetime, todays=todays, shift=shift, end=end) -> tuple[str, str]:
            if at >= end:
                return AgentStatus.OFFLINE, "End of shift"
            for begin, finish, reason in shift.breaks:
                if begin <= at < finish:
                    return AgentStatus.ON_BREAK, reason
            current = {status for begin, finish, status in todays if begin <= at < finish}
            if AgentStatus.BUSY in current:
                return AgentStatus.BUSY, ""
            if AgentStatus.WRAP_UP in current:
                return AgentStatus.WRAP_UP, ""
            return AgentStatus.AVAILABLE, "Start of shift" if at == shift.start else ""

        for at in sorted(points):
            if at > now:
                break
            status, reason = status_at(at)
            if status == previous:
                continue
            for step in _legal_path(previous, status):
                changes.append(
                    StatusChange(at=at, status=step, previous=previous, reason=reason if step == status else "")
                )
                previous = step
    return changes
