"""Business-hours arithmetic, checked against a brute-force minute-stepper and on fixed cases."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from crm.sla.services.business_hours import Calendar, add_business_seconds, business_seconds_between, calendar_for
from crm.sla.services.calendars import HolidaySpec, PeriodSpec, business_hours_create, business_hours_update

BERLIN = ZoneInfo("Europe/Berlin")
MINUTE = timedelta(minutes=1)
WEEKDAYS = range(5)
# Zones with daylight saving in both hemispheres, a half-hour shift (Lord Howe), odd offsets, and none.
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe", "Asia/Kathmandu"]
# Days around the 2026 clock changes of those zones.
AROUND = [datetime(2026, 3, 8), datetime(2026, 3, 29), datetime(2026, 4, 5), datetime(2026, 10, 4), datetime(2026, 10, 25),
          datetime(2026, 11, 1)]  # fmt: skip


def nine_to_five(time_zone="Europe/Berlin", holidays=()):
    return Calendar.build(time_zone=time_zone, periods=[(d, time(9), time(17)) for d in WEEKDAYS], holidays=holidays)


# --- the brute force: one minute at a time, from the raw periods -----------------------------------------------


def _open_at(instant, *, tz, periods, holidays):
    local = instant.astimezone(tz)
    day = local.date()
    if day in holidays["fixed"] or (day.month, day.day) in holidays["yearly"]:
        return False
    now = local.time().replace(tzinfo=None)
    for weekday, start, end in periods:
        if start < end or end == time(0) and start != time(0):
            if day.weekday() == weekday and start <= now and (end == time(0) or now < end):
                return True
        else:  # runs past midnight (00:00–00:00: the whole day)
            if day.weekday() == weekday and now >= start:
                return True
            if day.weekday() == (weekday + 1) % 7 and now < end:
                return True
    return False


def brute_add(start, minutes, **calendar):
    instant, left = start, minutes
    while left:
        if _open_at(instant, **calendar):
            left -= 1
        instant += MINUTE
    return instant


def brute_between(a, b, **calendar):
    count, instant = 0, a
    while instant < b:
        count += _open_at(instant, **calendar)
        instant += MINUTE
    return count * 60


half_hours = st.integers(0, 47).map(lambda n: time(n // 2, 30 * (n % 2)))
period = st.tuples(st.integers(0, 6), half_hours, half_hours).filter(lambda p: p[1] != p[2] or p[1] == time(0))


@st.composite
def calendars(draw):
    periods = draw(st.lists(period, min_size=1, max_size=5))
    base = draw(st.sampled_from(AROUND))
    holidays = draw(
        st.lists(
            st.tuples(st.integers(-3, 10).map(lambda n: (base + timedelta(days=n)).date()), st.booleans()),
            max_size=3,
            unique_by=lambda h: h[0],
        )
    )
    zone = draw(st.sampled_from(ZONES))
    start = (base + timedelta(minutes=draw(st.integers(-3 * 1440, 4 * 1440)))).replace(tzinfo=UTC)
    calendar = Calendar.build(time_zone=zone, periods=periods, holidays=holidays)
    raw = {
        "tz": ZoneInfo(zone),
        "periods": periods,
        "holidays": {
            "fixed": {d for d, recurring in holidays if not recurring},
            "yearly": {(d.month, d.day) for d, recurring in holidays if recurring},
        },
    }
    return calendar, raw, start


PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(calendars(), st.integers(1, 16 * 60))
def test_adding_business_time_matches_the_minute_stepper(case, minutes):
    calendar, raw, start = case
    assume(calendar.week_seconds >= 4 * 3600)  # sparse calendars make the stepper slow, not the code wrong

    assert add_business_seconds(calendar, start, minutes * 60) == brute_add(start, minutes, **raw)


@PROPERTY
@given(calendars(), st.integers(0, 4 * 1440))
def test_business_time_between_matches_the_minute_stepper(case, minutes):
    calendar, raw, start = case

    assert business_seconds_between(calendar, start, start + minutes * MINUTE) == brute_between(
        start, start + minutes * MINUTE, **raw
    )


@settings(max_examples=40, deadline=None)
@given(calendars(), st.integers(1, 400 * 3600))
def test_long_targets_skip_whole_weeks_and_still_add_up(case, seconds):
    calendar, _, start = case
    due = add_business_seconds(calendar, start, seconds)

    assert business_seconds_between(calendar, start, due) == seconds


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(ZONES), st.sampled_from(AROUND), st.integers(-5000, 5000), st.integers(0, 30 * 86400))
def test_a_24_7_calendar_counts_like_the_clock_across_midnight_and_clock_changes(zone, base, minutes, seconds):
    calendar = Calendar.build(time_zone=zone, periods=[(d, time(0), time(0)) for d in range(7)])
    start = (base + timedelta(minutes=minutes)).replace(tzinfo=UTC)

    assert add_business_seconds(calendar, start, seconds) == start + timedelta(seconds=seconds)
    assert business_seconds_between(calendar, start, start + timedelta(seconds=seconds)) == seconds


# --- fixed cases -------------------------------------------------------------------------------------------------


def test_one_business_hour_set_friday_16_30_falls_due_monday_09_30():
    friday = datetime(2026, 11, 27, 16, 30, tzinfo=BERLIN)

    assert add_business_seconds(nine_to_five(), friday, 3600) == datetime(2026, 11, 30, 9, 30, tzinfo=BERLIN)


def test_four_business_hours_set_friday_16_00_fall_due_monday_at_noon():
    friday = datetime(2026, 11, 27, 16, 0, tzinfo=BERLIN)

    assert add_business_seconds(nine_to_five(), friday, 4 * 3600) == datetime(2026, 11, 30, 12, 0, tzinfo=BERLIN)


def test_a_lunch_break_is_skipped():
    calendar = Calendar.build(
        time_zone="Europe/Berlin",
        periods=[(d, time(9), time(12)) for d in WEEKDAYS] + [(d, time(13), time(17)) for d in WEEKDAYS],
    )
    morning = datetime(2026, 12, 1, 11, 30, tzinfo=BERLIN)

    assert add_business_seconds(calendar, morning, 3600) == datetime(2026, 12, 1, 13, 30, tzinfo=BERLIN)
    assert business_seconds_between(calendar, morning, datetime(2026, 12, 1, 14, 0, tzinfo=BERLIN)) == 90 * 60


def test_holidays_close_the_whole_day_and_recurring_ones_come_back_every_year():
    calendar = nine_to_five(holidays=[(date(2026, 11, 30), False), (date(2000, 12, 25), True)])

    friday = datetime(2026, 11, 27, 16, 30, tzinfo=BERLIN)
    assert add_business_seconds(calendar, friday, 3600) == datetime(2026, 12, 1, 9, 30, tzinfo=BERLIN)
    christmas_eve = datetime(2026, 12, 24, 16, 30, tzinfo=BERLIN)  # a Thursday; the 25th is a Friday
    assert add_business_seconds(calendar, christmas_eve, 3600) == datetime(2026, 12, 28, 9, 30, tzinfo=BERLIN)


def test_a_clock_change_inside_the_hours_shortens_or_lengthens_that_day():
    night_shift = Calendar.build(time_zone="Europe/Berlin", periods=[(6, time(1), time(4))])  # Sundays 01–04
    spring = datetime(2026, 3, 29, tzinfo=BERLIN)  # 02:00 → 03:00
    autumn = datetime(2026, 10, 25, tzinfo=BERLIN)  # 03:00 → 02:00

    assert business_seconds_between(night_shift, spring, spring + timedelta(days=1)) == 2 * 3600
    assert business_seconds_between(night_shift, autumn, autumn + timedelta(days=1)) == 4 * 3600
    # wall-clock hours: after the change the office still opens at 09:00 local
    assert add_business_seconds(nine_to_five(), datetime(2026, 3, 27, 16, 30, tzinfo=BERLIN), 3600) == datetime(
        2026, 3, 30, 9, 30, tzinfo=BERLIN
    )


def test_a_night_period_runs_past_midnight():
    nights = Calendar.build(time_zone="UTC", periods=[(d, time(22), time(6)) for d in range(7)])
    start = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)

    assert add_business_seconds(nights, start, 5 * 3600) == datetime(2026, 12, 2, 4, 0, tzinfo=UTC)
    assert add_business_seconds(nights, start, 8 * 3600) == datetime(2026, 12, 2, 23, 0, tzinfo=UTC)


def test_no_calendar_is_calendar_time_and_a_calendar_without_hours_is_refused():
    start = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert add_business_seconds(None, start, 90) == start + timedelta(seconds=90)
    assert business_seconds_between(None, start, start + timedelta(seconds=90)) == 90

    closed = Calendar.build(time_zone="UTC", periods=[])
    with pytest.raises(ValueError, match="no open hours"):
        add_business_seconds(closed, start, 60)


@pytest.mark.django_db
def test_a_stored_calendar_is_compiled_once_and_again_after_a_change():
    stored = business_hours_create(
        name="Office",
        time_zone="Europe/Berlin",
        periods=[PeriodSpec(weekday=d, start=time(9), end=time(17)) for d in WEEKDAYS],
        holidays=[HolidaySpec(date=date(2026, 11, 30), name="closed")],
    )
    compiled = calendar_for(stored)
    assert calendar_for(stored) is compiled
    assert compiled.week_seconds == 5 * 8 * 3600 and compiled.is_holiday(date(2026, 11, 30))

    changed = business_hours_update(
        calendar=stored, data={}, periods=[PeriodSpec(weekday=0, start=time(8), end=time(12))]
    )

    assert calendar_for(changed).week_seconds == 4 * 3600
