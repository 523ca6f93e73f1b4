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
    Direction,
    InteractionStatus,
    MessageDirection,
    Priority,
    SurveyKind,
    SurveyStatus,
    WebhookDeliveryStatus,
)


class SLAPolicy(models.Model):
    """A set of service-level targets; a queue points at one, its targets pick by channel and priority."""

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    business_hours_only = models.BooleanField(
        default=False, help_text="count only business hours (calendars arrive with the SLA engine)"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

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
        ]

    def __str__(self) -> str:
        return f"{self.policy}: {self.channel or 'any channel'} / {self.get_priority_display() or 'any priority'}"


class Queue(models.Model):
    """Where interactions wait for an agent with the required skills.

    Higher ``priority`` queues are served first. After ``overflow_after_seconds`` of waiting an
    interaction moves to ``overflow_queue``. ``service_level_seconds`` is the answer threshold of the
    service-level KPI (e.g. 80 % in 20 s).
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

    first_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)

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
