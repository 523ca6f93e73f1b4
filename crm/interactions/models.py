"""The core's data: an interaction, its messages, its event log and who owned it when."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from agents.models import Agent
from config.choices import Channel
from contacts.models import Customer
from crm.choices import (
    OPEN_STATUSES,
    OWNED_STATUSES,
    AssignmentEndReason,
    DeliveryStatus,
    Direction,
    InteractionStatus,
    MessageDirection,
    Priority,
)

# The SLA clock columns of an interaction: kept by crm.sla (through the ``interaction_saving`` hook and its
# sweep); the core only carries them.
SLA_FIELDS = (
    "first_response_due_at",
    "next_response_due_at",
    "resolution_due_at",
    "sla_paused_at",
    "sla_next_check_at",
)


class Interaction(models.Model):
    """One contact with a customer on one channel, from arrival to close.

    Its status follows ``crm.choices.INTERACTION_TRANSITIONS`` and changes only through
    ``crm.interactions.services``, which stamps the step timestamps and appends to ``InteractionEvent``.
    """

    # the foreign keys' own one-column indexes are left out where an index of Meta.indexes starts with the column
    # (customer, queue, agent) or holds only the rows that have one (inbox, follow_up_of): every create and every
    # move writes each index of this table, and these five were copies
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="interactions", db_index=False)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    direction = models.CharField(max_length=16, choices=Direction.choices, default=Direction.INBOUND)
    queue = models.ForeignKey(
        "crm.Queue", null=True, blank=True, on_delete=models.SET_NULL, related_name="interactions", db_index=False
    )
    subject = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=16, choices=InteractionStatus.choices, default=InteractionStatus.NEW)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    agent = models.ForeignKey(
        Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="interactions", db_index=False
    )
    external_id = models.CharField(max_length=200, blank=True, help_text="the id in the source system (PBX, chat…)")
    inbox = models.ForeignKey(
        "crm.Inbox",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interactions",
        help_text="the inbox the customer wrote to (empty for work entered through the API)",
        db_index=False,
    )
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
        db_index=False,
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

    # SLA clocks (see crm.sla.services.engine): first response and resolution count from sla_started_at (queueing,
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
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-id"]
        indexes = [
            # the router's pick: queued work by priority then age
            models.Index(
                fields=["queue", "-priority", "queued_at"],
                name="interaction_routing",
                condition=models.Q(status=InteractionStatus.QUEUED),
            ),
            models.Index(fields=["status", "-id"], name="interaction_status_id"),
            # retention (crm.privacy.selectors): finished work by when it finished, oldest first
            models.Index(
                Coalesce("closed_at", "resolved_at", "abandoned_at", "created_at"),
                name="interaction_finished_at",
                condition=models.Q(
                    status__in=[InteractionStatus.RESOLVED, InteractionStatus.CLOSED, InteractionStatus.ABANDONED]
                ),
            ),
            models.Index(fields=["agent", "status"], name="interaction_agent_status"),
            models.Index(fields=["queue", "status"], name="interaction_queue_status"),
            models.Index(fields=["customer", "-created_at"], name="interaction_customer_time"),
            models.Index(fields=["channel", "-id"], name="interaction_channel_id"),
            models.Index(fields=["inbox"], name="interaction_inbox", condition=models.Q(inbox__isnull=False)),
            models.Index(
                fields=["follow_up_of"], name="interaction_follow_up_of", condition=models.Q(follow_up_of__isnull=False)
            ),
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

    Written by the lifecycle (``crm.interactions.services``) alone: a row is inserted when work is offered (assigned) to an agent
    and ended (``ended_at``, ``end_reason``) when the agent stops owning it. The database keeps at most one
    open row per interaction, so two assigners that both believed they won cannot both record it.
    """

    # (no index of its own on the interaction: assignment_interaction_time starts with it)
    interaction = models.ForeignKey(Interaction, on_delete=models.CASCADE, related_name="assignments", db_index=False)
    agent = models.ForeignKey(Agent, null=True, on_delete=models.SET_NULL, related_name="assignments")
    offered_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=16, choices=AssignmentEndReason.choices, blank=True)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
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

    # indexed by Meta.indexes only: event_interaction_at starts with the interaction; actor and agent where set
    interaction = models.ForeignKey(Interaction, on_delete=models.CASCADE, related_name="events", db_index=False)
    kind = models.CharField(max_length=40, help_text="e.g. created, queued, assigned, accepted, resolved")
    from_status = models.CharField(max_length=16, choices=InteractionStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=InteractionStatus.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, db_index=False
    )
    agent = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False)
    at = models.DateTimeField()
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("interaction event")
        verbose_name_plural = _("interaction events")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["interaction", "at"], name="event_interaction_at"),
            models.Index(fields=["kind", "at"], name="event_kind_at"),
            models.Index(fields=["actor"], name="event_actor", condition=models.Q(actor__isnull=False)),
            models.Index(fields=["agent"], name="event_agent", condition=models.Q(agent__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.interaction_id} {self.kind} at {self.at:%Y-%m-%d %H:%M:%S}"


class Message(models.Model):
    """One message of an interaction: from the customer, to the customer, or an internal note."""

    # indexed by Meta.indexes only: message_interaction_time starts with the interaction; author and inbox where set
    interaction = models.ForeignKey(Interaction, on_delete=models.CASCADE, related_name="messages", db_index=False)
    direction = models.CharField(max_length=16, choices=MessageDirection.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        help_text="empty for the customer",
        db_index=False,
    )
    body = models.TextField()
    attachments = models.JSONField(default=list, blank=True, help_text="[{name, content_type, size, url}]")
    external_id = models.CharField(max_length=200, blank=True, help_text="the provider's id (an e-mail's Message-ID)")
    inbox = models.ForeignKey(
        "crm.Inbox", null=True, blank=True, on_delete=models.SET_NULL, related_name="messages", db_index=False
    )
    delivery_status = models.CharField(
        max_length=16,
        choices=DeliveryStatus.choices,
        blank=True,
        default="",
        db_default="",
        help_text="outbound messages sent through an inbox",
    )
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["interaction", "created_at"], name="message_interaction_time"),
            models.Index(fields=["author"], name="message_author", condition=models.Q(author__isnull=False)),
            models.Index(fields=["inbox"], name="message_inbox", condition=models.Q(inbox__isnull=False)),
            # threading: a reply names the ids of the messages it answers
            models.Index(fields=["external_id"], name="message_external_id", condition=~models.Q(external_id="")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(direction__in=MessageDirection.values), name="message_direction_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} on #{self.interaction_id}"
