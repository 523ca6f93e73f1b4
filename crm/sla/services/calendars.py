"""Creating, changing and deleting business-hours calendars.

Every change bumps the calendar's ``updated_at`` (the key of the compiled-calendar cache in
``crm.sla.services.business_hours``) and, after the commit, asks for the open interactions under policies
using the calendar to be recomputed. Rule violations raise ``ValidationError`` with field messages; a
taken name has code ``duplicate`` (409 in the API); deleting a calendar a policy uses is a ``DomainError``.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import DUPLICATE, DomainError

from ..models import BusinessHours, BusinessHoursHoliday, BusinessHoursPeriod, SLAPolicy
from .business_hours import is_known_time_zone
from .engine import sla_request_recompute

CALENDAR_FIELDS = frozenset({"name", "time_zone"})
MAX_PERIODS, MAX_HOLIDAYS = 100, 1000


@dataclass(frozen=True)
class PeriodSpec:
    weekday: int
    start: time
    end: time


@dataclass(frozen=True)
class HolidaySpec:
    date: date
    name: str = ""
    recurring: bool = False


def business_hours_check(
    *, time_zone: str | None = None, periods: Iterable[PeriodSpec] | None = None, holidays=None
) -> None:
    """Raise field errors for an unknown time zone, no open period, an empty period or a repeated holiday."""
    errors: dict[str, list[str]] = {}
    if time_zone is not None and not is_known_time_zone(time_zone):
        errors["time_zone"] = [f"'{time_zone}' is not an IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)."]
    if periods is not None:
        specs = list(periods)
        if not specs:
            errors["periods"] = ["A calendar needs at least one open period."]
        elif len(specs) > MAX_PERIODS:
            errors["periods"] = [f"At most {MAX_PERIODS} periods."]
        for n, p in enumerate(specs, start=1):
            if not 0 <= p.weekday <= 6:
                errors.setdefault("periods", []).append(f"Period {n}: weekday is 0 (Monday) to 6 (Sunday).")
            if p.start == p.end and p.start != time(0):
                errors.setdefault("periods", []).append(
                    f"Period {n}: start and end are equal; 00:00–00:00 is the whole day, an end before the start "
                    "runs past midnight."
                )
    if holidays is not None:
        days = [h.date for h in holidays]
        if len(days) > MAX_HOLIDAYS:
            errors["holidays"] = [f"At most {MAX_HOLIDAYS} holidays."]
        elif len(set(days)) != len(days):
            errors["holidays"] = ["Each date may be listed once."]
    if errors:
        raise ValidationError(errors)


def _check_name(*, name: str, exclude_pk: int | None) -> None:
    others = BusinessHours.objects.filter(name__iexact=name.strip())
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    if others.exists():
        raise ValidationError(
            {
                "name": ValidationError(
                    _("A calendar named '%(strip)s' already exists.") % {"strip": name.strip()}, code=DUPLICATE
                )
            }
        )


def _replace(*, calendar: BusinessHours, periods, holidays) -> None:
    if periods is not None:
        BusinessHoursPeriod.objects.filter(calendar=calendar).delete()
        BusinessHoursPeriod.objects.bulk_create(
            [BusinessHoursPeriod(calendar=calendar, weekday=p.weekday, start=p.start, end=p.end) for p in periods]
        )
    if holidays is not None:
        BusinessHoursHoliday.objects.filter(calendar=calendar).delete()
        BusinessHoursHoliday.objects.bulk_create(
            [BusinessHoursHoliday(calendar=calendar, date=h.date, name=h.name, recurring=h.recurring) for h in holidays]
        )


def business_hours_create(
    *, name: str, time_zone: str, periods: Iterable[PeriodSpec], holidays: Iterable[HolidaySpec] = ()
) -> BusinessHours:
    """Create a calendar with its weekly periods and holidays."""
    periods, holidays = list(periods), list(holidays)
    business_hours_check(time_zone=time_zone, periods=periods, holidays=holidays)
    with transaction.atomic():
        _check_name(name=name, exclude_pk=None)
        calendar = BusinessHours.objects.create(name=name.strip(), time_zone=time_zone)
        _replace(calendar=calendar, periods=periods, holidays=holidays)
    return calendar


def business_hours_update(
    *,
    calendar: BusinessHours,
    data: Mapping[str, Any],
    periods: Iterable[PeriodSpec] | None = None,
    holidays: Iterable[HolidaySpec] | None = None,
) -> BusinessHours:
    """Change the given fields; ``periods`` / ``holidays``, when given, replace them. Recomputes open work."""
    unknown = set(data) - CALENDAR_FIELDS
    if unknown:
        raise ValueError(f"business_hours_update got unknown fields: {', '.join(sorted(unknown))}")
    periods = None if periods is None else list(periods)
    holidays = None if holidays is None else list(holidays)
    business_hours_check(time_zone=data.get("time_zone"), periods=periods, holidays=holidays)
    with transaction.atomic():
        calendar = BusinessHours.objects.select_for_update().get(pk=calendar.pk)
        if "name" in data:
            _check_name(name=data["name"], exclude_pk=calendar.pk)
            calendar.name = data["name"].strip()
        if "time_zone" in data:
            calendar.time_zone = data["time_zone"]
        _replace(calendar=calendar, periods=periods, holidays=holidays)
        business_hours_touch(calendar=calendar)
    return calendar


def business_hours_touch(*, calendar: BusinessHours) -> None:
    """Record that the calendar changed (its rows were edited, e.g. in the admin): new cache key, recompute."""
    calendar.updated_at = timezone.now()
    calendar.save(update_fields=["name", "time_zone", "updated_at"])
    sla_request_recompute(calendar_ids=[calendar.pk])


def business_hours_delete(*, calendar: BusinessHours) -> None:
    """Delete a calendar no policy uses (a policy would silently fall back to calendar time)."""
    with transaction.atomic():
        calendar = BusinessHours.objects.select_for_update().get(pk=calendar.pk)
        users = list(SLAPolicy.objects.filter(business_hours=calendar).values_list("name", flat=True)[:10])
        if users:
            raise DomainError(
                _("Calendar '%(name)s' is used by SLA policy(ies) %(join)s; change those first.")
                % {"name": calendar.name, "join": ", ".join(users)},
                code="calendar_in_use",
            )
        calendar.delete()


def policy_ids_using_calendar(*, calendar_id: int) -> list[int]:
    return list(SLAPolicy.objects.filter(business_hours_id=calendar_id).values_list("pk", flat=True))
