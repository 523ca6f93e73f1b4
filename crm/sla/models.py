"""Service levels: business-hours calendars, SLA policies with their targets, and the escalations recorded."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from config.choices import Channel
from crm.choices import EscalationKind, Priority, SLAClock
from crm.interactions.models import Interaction

from .services.business_hours import is_known_time_zone


def _validate_time_zone(value: str) -> None:
    if not is_known_time_zone(value):
        raise ValidationError(
            _("'%(value)s' is not an IANA time zone (e.g. Europe/Berlin, America/New_York, UTC).") % {"value": value}
        )


# Migrations name a validator by its module path, and crm/migrations/0008 imports this one as
# ``crm.models._validate_time_zone`` (where it lived before crm was split per concern). Keeping that path
# keeps the migration state unchanged; ``crm.models`` exports the function under it.
_validate_time_zone.__module__ = "crm.models"


class BusinessHours(models.Model):
    """A calendar of opening hours: the clock SLA targets count in when a policy names it.

    Periods and holidays are rows, not JSON: the database checks their ranges, the admin edits them
    inline, and reports can join them. The hot paths (recomputing due times, the sweep) do not read
    them per call: ``crm.sla.services.business_hours`` caches the compiled calendar per process, keyed by
    ``updated_at``, which every change through the services bumps.
    """

    name = models.CharField(max_length=100)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[_validate_time_zone])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("business hours calendar")
        verbose_name_plural = _("business hours calendars")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="businesshours_name_ci_unique")]

    def __str__(self) -> str:
        return f"{self.name} ({self.time_zone})"


class BusinessHoursPeriod(models.Model):
    """One open period of a weekday in the calendar's wall-clock time; several a day allow a lunch break.

    ``end`` at or before ``start`` runs across midnight into the next day; 00:00–00:00 is the whole day.
    """

    calendar = models.ForeignKey(BusinessHours, on_delete=models.CASCADE, related_name="periods")
    weekday = models.PositiveSmallIntegerField(help_text="0 Monday … 6 Sunday")
    start = models.TimeField()
    end = models.TimeField(help_text="at or before start: runs past midnight; 00:00 = end of day")

    class Meta:
        ordering = ["calendar", "weekday", "start"]
        constraints = [
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="bhperiod_weekday_0_6"),
            # equal start and end means 24 hours only from midnight; any other equal pair is a mistake
            models.CheckConstraint(
                condition=~models.Q(start=models.F("end")) | models.Q(start="00:00"), name="bhperiod_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.weekday} {self.start:%H:%M}–{self.end:%H:%M}"


class BusinessHoursHoliday(models.Model):
    """A date on which the calendar is closed all day (local date); ``recurring`` repeats it every year."""

    calendar = models.ForeignKey(BusinessHours, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100, blank=True)
    recurring = models.BooleanField(default=False, help_text="every year on this month and day")

    class Meta:
        ordering = ["calendar", "date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="bhholiday_unique")]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}".strip()


class SLAPolicy(models.Model):
    """A set of service-level targets; a queue points at one, its targets pick by channel and priority.

    ``business_hours`` set: targets count only the calendar's open hours; empty: calendar time.
    ``escalation_steps`` is an ordered list validated by ``crm.sla.services.steps.sla_check_escalation_steps``
    (kept as JSON: the steps are read whole with the policy by the sweep and replaced whole when edited).
    ``pause_on_hold``: the clocks stop while the interaction is on hold (waiting on the customer).
    """

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    business_hours = models.ForeignKey(
        BusinessHours, null=True, blank=True, on_delete=models.PROTECT, related_name="policies"
    )
    escalation_steps = models.JSONField(default=list, blank=True)
    pause_on_hold = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="slapolicy_name_ci_unique")]

    def __str__(self) -> str:
        return self.name


class SLATarget(models.Model):
    """First-response, next-response and resolution targets for one channel (and optionally one priority).

    A blank channel or priority matches any; the most specific target wins (see ``crm.sla.services.engine``).
    """

    policy = models.ForeignKey(SLAPolicy, on_delete=models.CASCADE, related_name="targets")
    channel = models.CharField(max_length=16, choices=Channel.choices, blank=True)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, null=True, blank=True)
    first_response_seconds = models.PositiveIntegerField()
    next_response_seconds = models.PositiveIntegerField(null=True, blank=True)
    resolution_seconds = models.PositiveIntegerField(null=True, blank=True)
    is_default = models.BooleanField(
        default=False, help_text="the target the policy's flat API fields describe (at most one per policy)"
    )

    class Meta:
        verbose_name = _("SLA target")
        ordering = ["policy", "channel", "priority"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "channel", "priority"], name="slatarget_unique", nulls_distinct=False
            ),
            models.CheckConstraint(condition=models.Q(first_response_seconds__gt=0), name="slatarget_first_positive"),
            models.CheckConstraint(
                condition=models.Q(resolution_seconds__isnull=True)
                | models.Q(resolution_seconds__gte=models.F("first_response_seconds")),
                name="slatarget_resolution_after_first",
            ),
            models.UniqueConstraint(
                fields=["policy"], condition=models.Q(is_default=True), name="slatarget_one_default"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy}: {self.channel or 'any channel'} / {self.get_priority_display() or 'any priority'}"


class Escalation(models.Model):
    """One SLA step that fell due for one interaction: a warning before a breach, the breach, or a step after it.

    ``clock_started_at`` names the run of the clock (the next-response clock runs again after every customer
    reply, and reopening restarts the others), so the unique constraint makes each step of each run happen
    once however many sweeps race. ``step`` 0 is the breach itself; 1… are the policy's escalation steps.
    ``due_at`` is when it fell due, not when a sweep noticed it. ``outcome`` says what its action did.
    """

    Target = SLAClock
    Kind = EscalationKind

    interaction = models.ForeignKey(Interaction, on_delete=models.CASCADE, related_name="escalations")
    target = models.CharField(max_length=16, choices=SLAClock.choices)
    clock_started_at = models.DateTimeField()
    step = models.PositiveSmallIntegerField(help_text="0: the breach; n: the policy's n-th escalation step")
    kind = models.CharField(max_length=8, choices=EscalationKind.choices)
    action = models.CharField(max_length=24, blank=True)
    due_at = models.DateTimeField()
    created_at = models.DateTimeField()
    outcome = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["due_at"], name="escalation_due_at")]
        constraints = [
            models.UniqueConstraint(
                fields=["interaction", "target", "clock_started_at", "step"], name="escalation_once"
            ),
            models.CheckConstraint(condition=models.Q(target__in=SLAClock.values), name="escalation_target_valid"),
            models.CheckConstraint(condition=models.Q(kind__in=EscalationKind.values), name="escalation_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"#{self.interaction_id} {self.target} {self.kind} step {self.step}"
