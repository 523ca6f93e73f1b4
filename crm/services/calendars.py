"""Temporary: removed in phase 2. ``crm.services.calendars`` moved to ``crm.sla.services.calendars``.

Re-exports for the modules not moved yet (admin, API, console views, consumers); new code imports the new paths.
"""

from crm.sla.services.calendars import (  # noqa: F401
    CALENDAR_FIELDS,
    MAX_HOLIDAYS,
    MAX_PERIODS,
    HolidaySpec,
    PeriodSpec,
    business_hours_check,
    business_hours_create,
    business_hours_delete,
    business_hours_touch,
    business_hours_update,
)

__all__ = [
    "CALENDAR_FIELDS",
    "HolidaySpec",
    "MAX_HOLIDAYS",
    "MAX_PERIODS",
    "PeriodSpec",
    "business_hours_check",
    "business_hours_create",
    "business_hours_delete",
    "business_hours_touch",
    "business_hours_update",
]
