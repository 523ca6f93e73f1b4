from django.db import models
from django.utils.translation import gettext_lazy as _

from config.choices import Channel  # noqa: F401  (re-exported: crm code speaks of channels too)


class InteractionStatus(models.TextChoices):
    NEW = "new", _("New")
    QUEUED = "queued", _("Queued")
    ASSIGNED = "assigned", _("Assigned")
    ACTIVE = "active", _("Active")
    ON_HOLD = "on_hold", _("On hold")
    WRAP_UP = "wrap_up", _("Wrap-up")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    ABANDONED = "abandoned", _("Abandoned")


S = InteractionStatus
# The lifecycle: new → queued → assigned → active ⇄ on_hold → wrap_up → resolved → closed, or abandoned.
# Assigned work may go back to the queue (offer declined / transfer), resolved work may be reopened.
INTERACTION_TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.QUEUED, S.ABANDONED}),
    S.QUEUED: frozenset({S.ASSIGNED, S.ABANDONED}),
    S.ASSIGNED: frozenset({S.ACTIVE, S.QUEUED, S.ABANDONED}),
    S.ACTIVE: frozenset({S.ON_HOLD, S.WRAP_UP, S.RESOLVED, S.QUEUED}),
    S.ON_HOLD: frozenset({S.ACTIVE, S.ABANDONED}),
    S.WRAP_UP: frozenset({S.RESOLVED}),
    S.RESOLVED: frozenset({S.CLOSED, S.QUEUED}),
    S.CLOSED: frozenset(),
    S.ABANDONED: frozenset(),
}
OPEN_STATUSES = frozenset({S.NEW, S.QUEUED, S.ASSIGNED, S.ACTIVE, S.ON_HOLD, S.WRAP_UP})
# Statuses in which an agent owns the interaction (and it counts against their capacity).
OWNED_STATUSES = frozenset({S.ASSIGNED, S.ACTIVE, S.ON_HOLD, S.WRAP_UP})


class InteractionEventKind(models.TextChoices):
    """What an ``InteractionEvent`` records. Status changes name their step; the rest change no status."""

    CREATED = "created", _("Created")
    QUEUED = "queued", _("Queued")
    ASSIGNED = "assigned", _("Assigned")
    ACCEPTED = "accepted", _("Accepted")
    HELD = "held", _("Put on hold")
    RESUMED = "resumed", _("Resumed")
    WRAP_UP = "wrap_up", _("Wrap-up started")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    ABANDONED = "abandoned", _("Abandoned")
    REOPENED = "reopened", _("Reopened")
    TRANSFERRED = "transferred", _("Transferred")
    OVERFLOWED = "overflowed", _("Moved to the overflow queue")
    UPDATED = "updated", _("Updated")
    FIRST_RESPONSE = "first_response", _("First response")
    OFFER_TIMEOUT = "offer_timeout", _("Offer not accepted in time")
    OFFER_WITHDRAWN = "offer_withdrawn", _("Offer withdrawn: the agent's console was gone")
    AGENT_DISCONNECTED = "agent_disconnected", _("The agent's console was gone while handling it")
    ESCALATED = "escalated", _("Moved to another queue by an SLA escalation")
    RECORDING_WITHHELD = "recording_withheld", _("Recording withheld: no consent")


class AssignmentEndReason(models.TextChoices):
    """Why an agent stopped owning an interaction (``Assignment.end_reason``)."""

    RESOLVED = "resolved", _("Resolved")
    TRANSFERRED = "transferred", _("Transferred")
    REQUEUED = "requeued", _("Sent back to the queue")
    TIMED_OUT = "timed_out", _("Offer not accepted in time")
    ABANDONED = "abandoned", _("Abandoned by the customer")
    REASSIGNED = "reassigned", _("Given to another agent")


class SLAClock(models.TextChoices):
    """The three service-level clocks of an interaction (the ``target`` of an escalation step)."""

    FIRST_RESPONSE = "first_response", _("First response")
    NEXT_RESPONSE = "next_response", _("Next response")
    RESOLUTION = "resolution", _("Resolution")


class EscalationAction(models.TextChoices):
    WARN = "warn", _("Warn (sla_warning signal)")
    NOTIFY_SUPERVISORS = "notify_supervisors", _("Email the queue team's supervisors")
    RAISE_PRIORITY = "raise_priority", _("Raise the priority one step")
    MOVE_TO_QUEUE = "move_to_queue", _("Move to another queue")


class EscalationKind(models.TextChoices):
    WARN = "warn", _("Warning")
    BREACH = "breach", _("Breach")


class Priority(models.IntegerChoices):
    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")
    URGENT = 4, _("Urgent")


class Direction(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")


class MessageDirection(models.TextChoices):
    INBOUND = "inbound", _("Inbound (from the customer)")
    OUTBOUND = "outbound", _("Outbound (to the customer)")
    INTERNAL = "internal", _("Internal note")


class DeliveryStatus(models.TextChoices):
    """Where an outbound message stands on its way to the customer (``crm.inboxes``' outbox). ``delivered`` and
    ``read`` come later, from the provider's status callbacks (Twilio: SMS delivered, WhatsApp read); a status only
    moves forward along ``DELIVERY_PROGRESS``."""

    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    READ = "read", _("Read")
    FAILED = "failed", _("Failed")


# The order a sent message's status moves in; a callback naming an earlier one (Twilio's ``sent`` arriving after its
# ``delivered``) changes nothing.
DELIVERY_PROGRESS = (DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.READ)


class SurveyKind(models.TextChoices):
    CSAT = "csat", _("CSAT (1–5)")
    NPS = "nps", _("NPS (0–10)")
    CES = "ces", _("CES (1–7)")


SURVEY_SCORE_RANGE = {SurveyKind.CSAT: (1, 5), SurveyKind.NPS: (0, 10), SurveyKind.CES: (1, 7)}
# A CSAT answer of this or less is a bad outcome (the well-being break policy and quality sampling read it).
BAD_CSAT_MAX = 2


class ReviewStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    COMPLETED = "completed", _("Completed")


class SurveyStatus(models.TextChoices):
    """Where a survey stands: the outbox row waits (pending) until the dispatcher sends or drops it."""

    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    SUPPRESSED = "suppressed", _("Suppressed")
    FAILED = "failed", _("Failed")


class WebhookDeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed (gave up)")


# The events a webhook can subscribe to; "*" subscribes to all of them.
WEBHOOK_EVENT_TYPES = (
    "interaction.created",
    "interaction.assigned",
    "interaction.resolved",
    "survey.answered",
    "sla.breached",
    "message.created",
    "message.delivery_failed",
)
