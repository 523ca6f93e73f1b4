"""Reading SLA policies and business-hours calendars (center-wide configuration, readable by every caller)."""

from django.db.models import QuerySet

from .models import BusinessHours, SLAPolicy


def sla_policy_list() -> QuerySet[SLAPolicy]:
    """SLA policies with their targets. Policies are center-wide configuration: every caller may read them."""
    return SLAPolicy.objects.prefetch_related("targets")


def business_hours_list() -> QuerySet[BusinessHours]:
    """Calendars with their periods and holidays (center-wide configuration, readable by every caller)."""
    return BusinessHours.objects.prefetch_related("periods", "holidays")
