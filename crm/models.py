import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models.functions import Lower

from agents.models import MAX_SKILL_LEVEL, MIN_SKILL_LEVEL, Agent, Skill, Team
from config.choices import Channel
from contacts.models import Customer

from .choices import (
    OPEN_STATUSES,
    OWNED_STATUSES,
    AssignmentEndReason,
    Direction,
    EscalationKind,
    InteractionStatus,
    MessageDirection,
    Priority,
    ReviewStatus,
    SLAClock,
    SurveyKind,
    SurveyStatus,
    WebhookDeliveryStatus,
)


def _validate_time_zone(value: str) -> None:
    from django.core.exceptions import ValidationError

    from .services.business_hours import is_known_time_zone

    if not is_known_time_zone(value):
        raise ValidationError(f"'{value}' is not an IANA time zone (e.g. Europe/Berlin, America/New_York, UTC).")


class BusinessHours(models.Model):
    """A calendar of opening hours: the clock SLA targets count in when a policy names it.

    Periods and holidays are rows, not JSON: the database checks their ranges, the admin edits them
    inline, and reports can join them. The hot paths (recomputing due times, the sweep) do not read
    them per call: ``crm.services.business_hours`` caches the compiled calendar per process, keyed by
    ``updated_at``, which every change through the services bumps.
    """

    name = models.CharField(max_length=100)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[_validate_time_zone])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "business hours calendar"
        verbose_name_plural = "business hours calendars"
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
    ``escalation_steps`` is an ordered list validated by ``crm.services.sla.sla_check_escalation_steps``
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
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="slapolicy_name_ci_unique")]

    def __str__(self) -> str:
        return self.name


class SLATarget(models.Model):
    """First-response, next-response and resolution targets for one channel (and optionally one priority).

    A blank channel or priority matches any; the most specific target wins (see ``crm.services.sla``).
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
        verbose_name = "SLA target"
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


class Queue(models.Model):
    """Where interactions wait for an agent with the required skills.

    Higher ``priority`` queues are served first. After ``overflow_after_seconds`` of waiting an
    interaction moves to ``overflow_queue``. ``service_level_seconds`` is the answer threshold of the
    service-level KPI (e.g. 80 % in 20 s). An offer (``assigned``) not accepted within
    ``accept_timeout_seconds`` is redirected (``crm.services.offers``); ``auto_accept`` queues skip the offer.
    """

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="queues", help_text="the team that owns it"
    )
    channels = ArrayField(models.CharField(max_length=16, choices=Channel.choices), default=list)
    priority = models.PositiveSmallIntegerField(default=5, help_text="1 (lowest) to 10 (highest)")
    sla_policy = models.ForeignKey(SLAPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="queues")
    overflow_queue = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="overflow_sources"
    )
    overflow_after_seconds = models.PositiveIntegerField(null=True, blank=True)
    service_level_seconds = models.PositiveIntegerField(default=20)
    service_level_target = models.DecimalField(max_digits=4, decimal_places=3, default=0.8)
    accept_timeout_seconds = models.PositiveIntegerField(
        null=True,
        blank=True,
        default=30,
        help_text="an offer not accepted within this goes back to the queue and its agent to 'not ready'; "
        "empty: offers wait",
    )
    auto_accept = models.BooleanField(
        default=False, help_text="work is accepted as it is assigned (e.g. email, where nobody has to pick up)"
    )
    surveys_enabled = models.BooleanField(default=True, help_text="send a survey after each resolution")
    survey_kind = models.CharField(max_length=8, choices=SurveyKind.choices, default=SurveyKind.CSAT)
    survey_delay_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="wait this long after resolution; empty = SURVEY_DISPATCH_DELAY"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    required_skills = models.ManyToManyField(Skill, through="QueueSkill", related_name="queues")

    class Meta:
        ordering = ["-priority", "name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="queue_name_ci_unique"),
            models.CheckConstraint(condition=models.Q(priority__gte=1, priority__lte=10), name="queue_priority_1_10"),
            models.CheckConstraint(
                condition=models.Q(overflow_queue__isnull=True) | ~models.Q(overflow_queue=models.F("id")),
                name="queue_overflow_not_self",
            ),
            models.CheckConstraint(
                condition=models.Q(service_level_target__gt=0, service_level_target__lte=1),
                name="queue_service_level_target_fraction",
            ),
            models.CheckConstraint(
                condition=models.Q(accept_timeout_seconds__isnull=True) | models.Q(accept_timeout_seconds__gt=0),
                name="queue_accept_timeout_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class QueueSkill(models.Model):
    """A skill a queue requires, at a minimum level."""

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="queue_skills")
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="queue_skills")
    min_level = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["skill__name"]
        constraints = [
            models.UniqueConstraint(fields=["queue", "skill"], name="queueskill_unique"),
            models.CheckConstraint(
                condition=models.Q(min_level__gte=MIN_SKILL_LEVEL, min_level__lte=MAX_SKILL_LEVEL),
                name="queueskill_level_1_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.queue} needs {self.skill} ≥ {self.min_level}"


class Interaction(models.Model):
    """One contact with a customer on one channel, from arrival to close.

    Its status follows ``crm.choices.INTERACTION_TRANSITIONS`` and changes only through
    ``crm.services.lifecycle``, which stamps the step timestamps and appends to ``InteractionEvent``.
    """

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="interactions")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    direction = models.CharField(max_length=16, choices=Direction.choices, default=Direction.INBOUND)
    queue = models.ForeignKey(Queue, null=True, blank=True, on_delete=models.SET_NULL, related_name="interactions")
    subject = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=16, choices=InteractionStatus.choices, default=InteractionStatus.NEW)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    agent = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="interactions")
    external_id = models.CharField(max_length=200, blank=True, help_text="the id in the source system (PBX, chat…)")
    disposition = models.CharField(max_length=100, blank=True)
    category = models.CharField(max_length=100, blank=True)
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    follow_up_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="follow_ups",
        help_text="an earlier interaction of the same customer this one repeats (FCR)",
    )

    created_at = models.DateTimeField(db_index=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    abandoned_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    # SLA clocks (see crm.services.sla): first response and resolution count from sla_started_at (queueing,
    # or reopening; a transfer does not restart them), next response from the customer's unanswered reply.
    sla_started_at = models.DateTimeField(null=True, blank=True)
    next_response_from = models.DateTimeField(
        null=True, blank=True, help_text="the customer's reply that awaits an answer (the next-response clock)"
    )
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    next_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    sla_paused_at = models.DateTimeField(null=True, blank=True, help_text="set while the SLA clocks are paused")
    # The earliest moment an escalation step or breach falls due; null when nothing is pending (paused,
    # resolved, no policy). The sweep reads only rows whose moment has come, through a partial index.
    sla_next_check_at = models.DateTimeField(null=True, blank=True)

    talk_seconds = models.PositiveIntegerField(default=0, help_text="active handling time")
    hold_seconds = models.PositiveIntegerField(default=0)
    wrap_up_seconds = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-id"]
        indexes = [
            # the router's pick: queued work by priority then age
            models.Index(
                fields=["queue", "-priority", "queued_at"],
                name="interaction_routing",
                condition=models.Q(status=InteractionStatus.QUEUED),
            ),
            models.Index(fields=["status", "-id"], name="interaction_status_id"),
            models.Index(fields=["agent", "status"], name="interaction_agent_status"),
            models.Index(fields=["queue", "status"], name="interaction_queue_status"),
            models.Index(fields=["customer", "-created_at"], name="interaction_customer_time"),
            models.Index(fields=["channel", "-id"], name="interaction_channel_id"),
            models.Index(
                fields=["first_response_due_at"],
                name="interaction_first_due_open",
                condition=models.Q(status__in=sorted(OPEN_STATUSES), first_response_at__isnull=True),
            ),
            models.Index(
                fields=["resolution_due_at"],
                name="interaction_resolve_due_open",
                condition=models.Q(status__in=sorted(OPEN_STATUSES)),
            ),
            # the offer-timeout sweep: only offers waiting for an answer
            models.Index(
                fields=["assigned_at"],
                name="interaction_offer_open",
                condition=models.Q(status=InteractionStatus.ASSIGNED),
            ),
            # the router's "idle since the last assignment", per candidate agent (newest first)
            models.Index(
                fields=["agent", "-assigned_at"],
                name="interaction_agent_assigned",
                condition=models.Q(assigned_at__isnull=False),
            ),
            models.Index(
                fields=["next_response_due_at"],
                name="interaction_next_due_open",
                condition=models.Q(status__in=sorted(OPEN_STATUSES), next_response_due_at__isnull=False),
            ),
            # the SLA sweep: cost grows with what is due, not with what is open
            models.Index(
                fields=["sla_next_check_at"],
                name="interaction_sla_check",
                condition=models.Q(sla_next_check_at__isnull=False),
            ),
            GinIndex(name="interaction_tags", fields=["tags"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=InteractionStatus.values), name="interaction_status_valid"
            ),
            models.CheckConstraint(condition=models.Q(channel__in=Channel.values), name="interaction_channel_valid"),
            models.CheckConstraint(condition=models.Q(priority__in=Priority.values), name="interaction_priority_valid"),
            # an owned interaction always has its agent
            models.CheckConstraint(
                condition=~models.Q(status__in=sorted(OWNED_STATUSES)) | models.Q(agent__isnull=False),
                name="interaction_owned_has_agent",
            ),
            # a source system's id identifies one interaction per channel (the duplicate check is an index)
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                name="interaction_external_id_unique",
                condition=~models.Q(external_id=""),
            ),
            models.CheckConstraint(
                condition=models.Q(follow_up_of__isnull=True) | ~models.Q(follow_up_of=models.F("id")),
                name="interaction_follow_up_not_self",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_channel_display()} {self.subject or ''}".strip()

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class Assignment(models.Model):
    """One agent's ownership of one interaction, from the offer to its end: the history of who held the work.

    Written by ``crm.services.lifecycle`` alone: a row is inserted when work is offered (assigned) to an agent
    and ended (``ended_at``, ``end_reason``) when the agent stops owning it. The database keeps at most one
    open row per interaction, so two assigners that both believed they won cannot both record it.
    """

    interaction = models.ForeignKey(Interaction, on_delete=models.CASCADE, related_name="assignments")
    agent = models.ForeignKey(Agent, null=True, on_delete=models.SET_NULL, related_name="assignments")
    offered_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=16, choices=AssignmentEndReason.choices, blank=True)

    class Meta:
        ordering = ["offered_at", "id"]
        indexes = [
            models.Index(fields=["interaction", "offered_at"], name="assignment_interaction_time"),
            # an agent's current work
            models.Index(fields=["agent"], name="assignment_agent_active", condition=models.Q(ended_at__isnull=True)),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["interaction"], condition=models.Q(ended_at__isnull=True), name="assignment_one_active"
            ),
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True, end_reason="")
                | models.Q(ended_at__isnull=False, end_reason__in=AssignmentEndReason.values),
                name="assignment_ended_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.interaction_id} with agent {self.agent_id} from {self.offered_at:%Y-%m-%d %H:%M:%S}"


class InteractionEvent(models.Model):
    """The interaction's event log: every status change and move, with actor and time (AHT, ASA, transfers)."""

    interaction = models.ForeignKey(Interaction, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=40, help_text="e.g. created, queued, assigned, accepted, resolved")
    from_status = models.CharField(max_length=16, choices=InteractionStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=InteractionStatus.choices, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    agent = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["interaction", "at"], name="event_interaction_at"),
            models.Index(fields=["kind", "at"], name="event_kind_at"),
        ]

    def __str__(self) -> str:
        return f"{self.interaction_id} {self.kind} at {self.at:%Y-%m-%d %H:%M:%S}"


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


class Message(models.Model):
    """One message of an interaction: from the customer, to the customer, or an internal note."""

    interaction = models.ForeignKey(Interaction, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=16, choices=MessageDirection.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, help_text="empty for the customer"
    )
    body = models.TextField()
    attachments = models.JSONField(default=list, blank=True, help_text="[{name, content_type, size, url}]")
    external_id = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["interaction", "created_at"], name="message_interaction_time")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(direction__in=MessageDirection.values), name="message_direction_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} on #{self.interaction_id}"


class Survey(models.Model):
    """A satisfaction survey for one interaction, and the outbox row of its dispatch.

    It is written in the resolution's transaction (so a crash between commit and publish loses nothing)
    and sent once ``dispatch_after`` has passed, by the on-commit task or the beat sweep, whichever comes
    first; the row lock and the status make a second sender a no-op. ``token`` is a random nonce; the
    customer's link carries it signed (``crm.services.surveys``), and the one-to-one response makes it
    single-use. One survey per interaction and kind: a reopened and re-resolved contact is not asked twice.
    """

    interaction = models.ForeignKey(Interaction, on_delete=models.CASCADE, related_name="surveys")
    kind = models.CharField(max_length=8, choices=SurveyKind.choices, default=SurveyKind.CSAT)
    token = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=16, choices=SurveyStatus.choices, default=SurveyStatus.PENDING)
    channel = models.CharField(max_length=16, choices=Channel.choices, blank=True, help_text="sent over")
    dispatch_after = models.DateTimeField(null=True, blank=True)
    leased_until = models.DateTimeField(
        null=True, blank=True, help_text="a publish is in flight until then; the sweep leaves the row alone"
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    suppressed_reason = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["interaction", "kind"], name="survey_one_per_kind"),
            models.CheckConstraint(condition=models.Q(status__in=SurveyStatus.values), name="survey_status_valid"),
            models.CheckConstraint(
                condition=~models.Q(status=SurveyStatus.SENT) | models.Q(sent_at__isnull=False),
                name="survey_sent_has_time",
            ),
        ]
        indexes = [
            # the sweep's pick: pending surveys by due time
            models.Index(
                fields=["dispatch_after"], name="survey_pending_due", condition=models.Q(status=SurveyStatus.PENDING)
            ),
            models.Index(fields=["sent_at"], name="survey_sent_at", condition=models.Q(sent_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for #{self.interaction_id}"


class SurveySuppressionRule(models.Model):
    """When not to ask: set by a supervisor per queue and/or channel (empty = any).

    A survey is dropped when the interaction's disposition or category is listed, or, for messaging
    channels, when the customer's last message is older than ``reply_window_hours`` at send time (a
    platform such as WhatsApp refuses business messages outside its 24-hour window).
    """

    queue = models.ForeignKey(
        Queue, null=True, blank=True, on_delete=models.CASCADE, related_name="survey_suppression_rules"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, blank=True)
    dispositions = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    categories = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    reply_window_hours = models.PositiveIntegerField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["queue", "channel", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(channel="") | models.Q(channel__in=Channel.values), name="suppression_channel_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(reply_window_hours__isnull=True) | models.Q(reply_window_hours__gt=0),
                name="suppression_window_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"No survey: {self.queue or 'any queue'} / {self.channel or 'any channel'}"


class SurveyResponse(models.Model):
    """The customer's answer to a survey (one per survey)."""

    survey = models.OneToOneField(Survey, on_delete=models.CASCADE, related_name="response")
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    answered_at = models.DateTimeField()

    class Meta:
        ordering = ["-answered_at"]
        constraints = [models.CheckConstraint(condition=models.Q(score__lte=10), name="surveyresponse_score_max")]

    def __str__(self) -> str:
        return f"{self.score} for survey {self.survey_id}"


class CannedResponse(models.Model):
    """A ready-made reply an agent inserts instead of typing it again (by title, or by its ``shortcut``).

    A response tied to a ``queue`` is offered only there; one without a queue is offered everywhere.
    Shortcuts are typed by hand, so they are unique regardless of case.
    """

    title = models.CharField(max_length=200)
    body = models.TextField()
    shortcut = models.CharField(max_length=50, blank=True, help_text="e.g. 'thanks', typed as /thanks")
    queue = models.ForeignKey(
        Queue,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="canned_responses",
        help_text="empty: offered in every queue",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title", "id"]
        indexes = [models.Index(fields=["queue", "title"], name="cannedresponse_queue_title")]
        constraints = [
            models.UniqueConstraint(
                Lower("shortcut"), name="cannedresponse_shortcut_ci_unique", condition=~models.Q(shortcut="")
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ApiKey(models.Model):
    """An integrator's key. Only a SHA-256 hash is stored; the key itself is shown once at creation.

    ``scopes`` holds ``read``, ``write`` and/or ``admin``. A key bound to a ``team`` sees only that
    team's queues, agents and interactions.
    """

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True, help_text="the key's first characters, to recognise it")
    hashed_key = models.CharField(max_length=64, unique=True)
    scopes = ArrayField(models.CharField(max_length=16), default=list)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="api_keys")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scopes__contained_by=["read", "write", "admin"]), name="apikey_scopes_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        from django.utils import timezone

        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class IdempotencyRecord(models.Model):
    """What a POST with an ``Idempotency-Key`` produced, so a retry returns it instead of creating again."""

    owner = models.CharField(max_length=40, help_text="'key:<api key id>' or 'user:<user id>'")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="empty while in flight")
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="idempotency_owner_key_unique")]

    def __str__(self) -> str:
        return f"{self.owner} {self.key}"


# --- quality reviews -----------------------------------------------------------------------------

REVIEW_SCALE_MAX = 5


class Scorecard(models.Model):
    """What a quality review scores: weighted criteria (greeting, empathy, accuracy, resolution, compliance…)."""

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="scorecard_name_ci_unique")]

    def __str__(self) -> str:
        return self.name


class ScorecardCriterion(models.Model):
    """One criterion of a scorecard and its weight in the review's total."""

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="criteria")
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    weight = models.PositiveSmallIntegerField(default=1)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["scorecard", "position", "id"]
        verbose_name_plural = "scorecard criteria"
        constraints = [
            models.UniqueConstraint(fields=["scorecard", "name"], name="scorecardcriterion_unique_name"),
            models.CheckConstraint(condition=models.Q(weight__gt=0), name="scorecardcriterion_weight_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ×{self.weight}"


class Review(models.Model):
    """A supervisor's quality review of one interaction: pending when sampled, completed when scored.

    ``agent`` is who handled the interaction when it was sampled, kept so the per-agent QA score and the
    agent's own view do not depend on later reassignments. ``total_score`` (0–100) is the weighted mean of
    the criterion scores.
    """

    interaction = models.ForeignKey(Interaction, on_delete=models.CASCADE, related_name="reviews")
    agent = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews")
    scorecard = models.ForeignKey(Scorecard, on_delete=models.PROTECT, related_name="reviews")
    status = models.CharField(max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.PENDING)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sampled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    comment = models.TextField(blank=True)
    total_score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["agent", "status", "-completed_at"], name="review_agent_status")]
        constraints = [
            models.UniqueConstraint(fields=["interaction", "scorecard"], name="review_once_per_scorecard"),
            models.CheckConstraint(condition=models.Q(status__in=ReviewStatus.values), name="review_status_valid"),
            models.CheckConstraint(
                condition=models.Q(total_score__isnull=True) | models.Q(total_score__gte=0, total_score__lte=100),
                name="review_total_0_100",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=ReviewStatus.COMPLETED)
                | models.Q(total_score__isnull=False, completed_at__isnull=False),
                name="review_completed_has_score",
            ),
        ]

    def __str__(self) -> str:
        return f"Review of #{self.interaction_id} ({self.get_status_display()})"


class ReviewScore(models.Model):
    """The score (0–5) one review gave one criterion."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(ScorecardCriterion, on_delete=models.PROTECT, related_name="+")
    score = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["criterion__position", "criterion_id"]
        constraints = [
            models.UniqueConstraint(fields=["review", "criterion"], name="reviewscore_unique"),
            models.CheckConstraint(condition=models.Q(score__lte=REVIEW_SCALE_MAX), name="reviewscore_0_5"),
        ]

    def __str__(self) -> str:
        return f"{self.criterion_id}: {self.score}"


class Webhook(models.Model):
    """An integrator's subscription: signed POSTs of the chosen event types to ``url``.

    ``failure_count`` counts consecutive failed attempts since ``failing_since``; a subscription that keeps
    failing for ``WEBHOOK_DISABLE_AFTER_SECONDS`` is switched off with ``disabled_reason`` and a notice.
    """

    name = models.CharField(max_length=100, blank=True)
    url = models.URLField(max_length=2000)
    events = ArrayField(models.CharField(max_length=50), default=list, help_text='event types, or ["*"]')
    secret = models.CharField(max_length=200, help_text="the HMAC-SHA256 key receivers verify signatures with")
    is_active = models.BooleanField(default=True)
    failure_count = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [GinIndex(name="webhook_events", fields=["events"], condition=models.Q(is_active=True))]

    def __str__(self) -> str:
        return self.name or self.url


class WebhookDelivery(models.Model):
    """One event for one subscription: the outbox row, written in the transaction that caused the event.

    Unique per (webhook, event id), so a repeated emit or publish never delivers an event twice to one
    receiver; receivers de-duplicate by ``event_id`` (sent as ``Switchboard-Event-Id``) across our retries.
    """

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField(default=uuid.uuid4)
    event_type = models.CharField(max_length=50)
    payload = models.JSONField(help_text="the whole body: id, type, created_at, data")
    status = models.CharField(
        max_length=16, choices=WebhookDeliveryStatus.choices, default=WebhookDeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    leased_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["webhook", "event_id"], name="webhookdelivery_event_unique"),
            models.CheckConstraint(
                condition=models.Q(status__in=WebhookDeliveryStatus.values), name="webhookdelivery_status_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="webhookdelivery_pending_due",
                condition=models.Q(status=WebhookDeliveryStatus.PENDING),
            ),
            models.Index(fields=["webhook", "-id"], name="webhookdelivery_webhook"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} → {self.webhook_id}"


class WebhookAttempt(models.Model):
    """One POST of a delivery: what the receiver answered, how long it took, or what went wrong."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["delivery", "attempted_at", "id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} at {self.attempted_at:%Y-%m-%d %H:%M:%S}: {self.status_code or self.error[:40]}"


class DeadLetter(models.Model):
    """A Celery message that could not be processed: redelivered too often (it kills its worker) or failed for good.

    Parked here instead of looping through the broker forever; an admin can read it and queue it again.
    """

    task_id = models.CharField(max_length=64, unique=True)
    task_name = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    exception = models.TextField(blank=True)
    delivery_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    requeued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.task_name} {self.task_id}"
