"""Temporary: removed in phase 2. ``crm.services.business_hours`` moved to ``crm.sla.services.business_hours``.

Re-exports for the modules not moved yet (admin, API, console views, consumers); new code imports the new paths.
"""

from crm.sla.services.business_hours import (  # noqa: F401
    DAY,
    DAY_SECONDS,
    MAX_SCAN_DAYS,
    ONE_SECOND,
    WEEK,
    Calendar,
    add_business_seconds,
    business_seconds_between,
    calendar_for,
    day_open_intervals,
    is_known_time_zone,
)

__all__ = [
    "Calendar",
    "DAY",
    "DAY_SECONDS",
    "MAX_SCAN_DAYS",
    "ONE_SECOND",
    "WEEK",
    "add_business_seconds",
    "business_seconds_between",
    "calendar_for",
    "day_open_intervals",
    "is_known_time_zone",
]
