"""Business-hours arithmetic: the one place that knows how SLA time passes on a calendar.

A calendar's periods are wall-clock times of its time zone (09:00–17:00 means nine to five on the office
clock, summer and winter). An instant is open when its local wall time falls in a period of its local
weekday and its local date is no holiday. So on the day clocks go forward an hour inside a period, that
day has an hour less of open time; on the day they go back, an hour more (the repeated hour is open twice,
as the office is). A period whose end is at or before its start runs past midnight: its part after
midnight belongs to the next date (a holiday on that date closes it). 00:00–00:00 is a whole day, so a
calendar with it on every weekday is 24/7 and counts exactly like calendar time.

The arithmetic works a local day at a time: a day's open intervals are turned into UTC instants through
the day's UTC-offset segments (one, or two on a daylight-saving day), never by stepping minutes. Whole
weeks without a holiday or an offset change are skipped at once by the calendar's weekly open time.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

DAY = timedelta(days=1)
WEEK = timedelta(days=7)
DAY_SECONDS = 86_400
ONE_SECOND = timedelta(seconds=1)
# No open instant within this many days: the calendar is closed for good (e.g. every date a holiday).
MAX_SCAN_DAYS = 3_700


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones()) | {"UTC"}


def is_known_time_zone(name: object) -> bool:
    """Whether ``name`` is an IANA time zone name this machine knows (e.g. ``Europe/Berlin``)."""
    return isinstance(name, str) and name in _zone_names()


@dataclass(frozen=True, eq=False)
class Calendar:
    """A compiled calendar: per weekday (0 Monday) the merged open wall-clock ranges in seconds of the day."""

    tz: ZoneInfo
    weekly: tuple[tuple[tuple[int, int], ...], ...]
    holidays: frozenset[date]
    yearly: frozenset[tuple[int, int]]
    week_seconds: int

    @classmethod
    def build(
        cls,
        *,
        time_zone: str,
        periods: Iterable[tuple[int, time, time]],
        holidays: Iterable[tuple[date, bool]] = (),
    ) -> "Calendar":
        """``periods``: ``(weekday, start, end)`` wall-clock times; ``holidays``: ``(date, recurring yearly)``."""
        days: list[list[tuple[int, int]]] = [[] for _ in range(7)]
        for weekday, start, end in periods:
            s = start.hour * 3600 + start.minute * 60 + start.second
            e = end.hour * 3600 + end.minute * 60 + end.second
            if e > s:
                days[weekday].append((s, e))
            elif e == s and s != 0:
                raise ValueError(f"An open period cannot start and end at {start:%H:%M}.")
            else:
                # ends at or before it starts (00:00–00:00 included): on to midnight, and on the next day
                days[weekday].append((s, DAY_SECONDS))
                if e:
                    days[(weekday + 1) % 7].append((0, e))
        weekly = tuple(tuple(_merge_ranges(ranges)) for ranges in days)
        fixed, yearly = set(), set()
        for day, recurring in holidays:
            (yearly.add((day.month, day.day)) if recurring else fixed.add(day))
        return cls(
            tz=ZoneInfo(time_zone),
            weekly=weekly,
            holidays=frozenset(fixed),
            yearly=frozenset(yearly),
            week_seconds=sum(e - s for ranges in weekly for s, e in ranges),
        )

    def is_holiday(self, day: date) -> bool:
        return day in self.holidays or (day.month, day.day) in self.yearly


def _merge_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for s, e in sorted(ranges):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


# --- one local day ---------------------------------------------------------------------------------


def _day_start(tz: ZoneInfo, day: date) -> datetime:
    """The first instant (UTC) whose local date is ``day``.

    ``fold=0`` picks the first of a repeated midnight and, for a midnight skipped by a clock change, the
    offset before it, which lands exactly on the change: in both cases the day's first instant.
    """
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def _offset(tz: ZoneInfo, instant: datetime) -> timedelta:
    return instant.astimezone(tz).utcoffset()  # type: ignore[return-value]


@lru_cache(maxsize=8192)
def _day_segments(tz: ZoneInfo, day: date) -> tuple[tuple[datetime, datetime, timedelta], ...]:
    """The day's instants as ``(from, to, UTC offset)`` runs: one, or two on a clock-change day."""
    begin, end = _day_start(tz, day), _day_start(tz, day + DAY)
    first, last = _offset(tz, begin), _offset(tz, end - ONE_SECOND)
    if first == last:
        return ((begin, end, first),)
    lo, hi = begin, end - ONE_SECOND  # offset(lo) == first, offset(hi) == last: find the change to the second
    while hi - lo > ONE_SECOND:
        mid = lo + (hi - lo) // 2
        mid = mid.replace(microsecond=0)
        if _offset(tz, mid) == first:
            lo = mid
        else:
            hi = mid
    return ((begin, hi, first), (hi, end, last))


def day_open_intervals(calendar: Calendar, day: date) -> list[tuple[datetime, datetime]]:
    """The open intervals (UTC, half-open, in order) of one local date."""
    ranges = calendar.weekly[day.weekday()]
    if not ranges or calendar.is_holiday(day):
        return []
    midnight = datetime.combine(day, time())  # naive wall clock
    out: list[tuple[datetime, datetime]] = []
    for begin, end, offset in _day_segments(calendar.tz, day):
        for s, e in ranges:
            # instants of this run whose wall time (instant + offset) lies in [s, e) of the day
            a = max(begin, (midnight + timedelta(seconds=s) - offset).replace(tzinfo=UTC))
            b = min(end, (midnight + timedelta(seconds=e) - offset).replace(tzinfo=UTC))
            if a < b:
                if out and out[-1][1] >= a:
                    out[-1] = (out[-1][0], max(out[-1][1], b))
                else:
                    out.append((a, b))
    return out


def _plain_week(calendar: Calendar, day: date) -> bool:
    """Whether the 7 local days from ``day`` have no holiday and no offset change: their open time is nominal."""
    if any(calendar.is_holiday(day + DAY * i) for i in range(7)):
        return False
    offset = _offset(calendar.tz, _day_start(calendar.tz, day))
    return all(_offset(calendar.tz, _day_start(calendar.tz, day + DAY * i) - ONE_SECOND) == offset for i in range(1, 8))


# --- the arithmetic --------------------------------------------------------------------------------


def _check_open(calendar: Calendar) -> None:
    if calendar.week_seconds <= 0:
        raise ValueError("The calendar has no open hours.")


def add_business_seconds(calendar: Calendar | None, start: datetime, seconds: float) -> datetime:
    """The instant at which ``seconds`` of open time have passed since ``start`` (UTC).

    No calendar: calendar time. Zero seconds: ``start`` itself. Raises ``ValueError`` for a calendar
    that never opens.
    """
    if start.tzinfo is None:
        raise ValueError("start must be an aware datetime.")
    if seconds < 0:
        raise ValueError("seconds must not be negative.")
    start = start.astimezone(UTC)
    if calendar is None or seconds == 0:
        return start + timedelta(seconds=seconds)
    _check_open(calendar)
    remaining = timedelta(seconds=seconds)
    week = timedelta(seconds=calendar.week_seconds)
    day = start.astimezone(calendar.tz).date()
    for _ in range(MAX_SCAN_DAYS):
        # a whole week ahead, untouched by holidays or clock changes, counts its nominal open time at once
        while remaining > week and _day_start(calendar.tz, day) >= start and _plain_week(calendar, day):
            remaining -= week
            day += WEEK
        for a, b in day_open_intervals(calendar, day):
            if b <= start:
                continue
            a = max(a, start)
            if b - a >= remaining:
                return a + remaining
            remaining -= b - a
        day += DAY
    raise ValueError(f"The calendar has no open time within {MAX_SCAN_DAYS} days of {start:%Y-%m-%d}.")


def business_seconds_between(calendar: Calendar | None, a: datetime, b: datetime) -> float:
    """Open seconds in ``[a, b)``; 0 when ``b`` is not after ``a``. No calendar: calendar time."""
    if b <= a:
        return 0.0
    if calendar is None:
        return (b - a).total_seconds()
    a, b = a.astimezone(UTC), b.astimezone(UTC)
    total = timedelta()
    week = timedelta(seconds=calendar.week_seconds)
    day = a.astimezone(calendar.tz).date()
    while _day_start(calendar.tz, day) < b:
        if (
            calendar.week_seconds
            and _day_start(calendar.tz, day) >= a
            and _day_start(calendar.tz, day + WEEK) <= b
            and _plain_week(calendar, day)
        ):
            total += week
            day += WEEK
            continue
        for x, y in day_open_intervals(calendar, day):
            x, y = max(x, a), min(y, b)
            if x < y:
                total += y - x
        day += DAY
    return total.total_seconds()


# --- calendars stored in the database --------------------------------------------------------------

_compiled: dict[int, tuple[datetime, Calendar]] = {}


def calendar_for(business_hours) -> Calendar | None:
    """The compiled calendar of a ``BusinessHours`` row (None: calendar time), cached per process.

    The cache is keyed by the row's ``updated_at``, which the caller has just read (it comes with the
    policy in one query), so a change made by another process is seen at once.
    """
    if business_hours is None:
        return None
    cached = _compiled.get(business_hours.pk)
    if cached is not None and cached[0] == business_hours.updated_at:
        return cached[1]
    # through the row's relations, so this module imports no model (crm.sla.models imports it)
    calendar = Calendar.build(
        time_zone=business_hours.time_zone,
        periods=business_hours.periods.values_list("weekday", "start", "end"),
        holidays=business_hours.holidays.values_list("date", "recurring"),
    )
    _compiled[business_hours.pk] = (business_hours.updated_at, calendar)
    return calendar
