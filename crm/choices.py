from django.db import models
from django.utils.translation import gettext_lazy as _

from config.choices import Channel  # noqa: F401  (re-exported: crm code speaks of channels too)


class InteractionStatus(models.TextChoices):
    NEW = "new", "New"
    QUEUED = "queued", "Queued"
    ASSIGNED = "assigned", "Assigned"
    ACTIVE = "active", "Active"
    ON_HOLD = "on_hold", "On hold"
    WRAP_UP = "wrap_up", "Wrap-up"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    ABANDONED = "abandoned", "Abandoned"


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

    CREATED = "created", "Created"
    QUEUED = "queued", "Queued"
    ASSIGNED = "assigned", "Assigned"
    ACCEPTED = "accepted", "Accepted"
    HELD = "held", "Put on hold"
    RESUMED = "resumed", "Resumed"
    WRAP_UP = "wrap_up", "Wrap-up started"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    ABANDONED = "abandoned", "Abandoned"
    REOPENED = "reopened", "Reopened"
    TRANSFERRED = "transferred", "Transferred"
    OVERFLOWED = "overflowed", "Moved to the overflow queue"
    UPDATED = "updated", "Updated"
    FIRST_RESPONSE = "first_response", "First response"
    OFFER_TIMEOUT = "offer_timeout", "Offer not accepted in time"
    OFFER_WITHDRAWN = "offer_withdrawn", "Offer withdrawn: the agent's console was gone"
    AGENT_DISCONNECTED = "agent_disconnected", "The agent's console was gone while handling it"
    ESCALATED = "escalated", "Moved to another queue by an SLA escalation"
    RECORDING_WITHHELD = "recording_withheld", "Recording withheld: no consent"


class AssignmentEndReason(models.TextChoices):
    """Why an agent stopped owning an interaction (``Assignment.end_reason``)."""

    RESOLVED = "resolved", "Resolved"
    TRANSFERRED = "transferred", "Transferred"
    REQUEUED = "requeued", "Sent back to the queue"
    TIMED_OUT = "timed_out", "Offer not accepted in time"
    ABANDONED = "abandoned", "Abandoned by the customer"
    REASSIGNED = "reassigned", "Given to another agent"


class SLAClock(models.TextChoices):
    """The three service-level clocks of an interaction (the ``target`` of an escalation step)."""

    FIRST_RESPONSE = "first_response", "First response"
    NEXT_RESPONSE = "next_response", "Next response"
    RESOLUTION = "resolution", "Resolution"


class EscalationAction(models.TextChoices):
    WARN = "warn", "Warn (sla_warning signal)"
    NOTIFY_SUPERVISORS = "notify_supervisors", "Email the queue team's supervisors"
    RAISE_PRIORITY = "raise_priority", "Raise the priority one step"
    MOVE_TO_QUEUE = "move_to_queue", "Move to another queue"


class EscalationKind(models.TextChoices):
    WARN = "warn", "Warning"
    BREACH = "breach", "Breach"


class Priority(models.IntegerChoices):
    LOW = 1, "Low"
    NORMAL = 2, "Normal"
    HIGH = 3, "High"
    URGENT = 4, "Urgent"


class Direction(models.TextChoices):
    INBOUND = "inbound", "Inbound"
    OUTBOUND = "outbound", "Outbound"


class MessageDirection(models.TextChoices):
    INBOUND = "inbound", "Inbound (from the customer)"
    OUTBOUND = "outbound", "Outbound (to the customer)"
    INTERNAL = "internal", "Internal note"


class DeliveryStatus(models.TextChoices):
    """Where an outbound message stands on its way to the customer (``crm.inboxes``' outbox). ``delivered`` and
    ``read`` come later, from the provider's status callbacks (Twilio: SMS delivered, WhatsApp read); a status only
    moves forward along ``DELIVERY_PROGRESS``."""

    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", _("Delivered")
    READ = "read", _("Read")
    FAILED = "failed", "Failed"


# The order a sent message's status moves in; a callback naming an earlier one (Twilio's ``sent`` arriving after its
# ``delivered``) changes nothing.
DELIVERY_PROGRESS = (DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.READ)


class SurveyKind(models.TextChoices):
    CSAT = "csat", "CSAT (1–5)"
    NPS = "nps", "NPS (0–10)"
    CES = "ces", "CES (1–7)"


SURVEY_SCORE_RANGE = {SurveyKind.CSAT: (1, 5), SurveyKind.NPS: (0, 10), SurveyKind.CES: (1, 7)}
# A CSAT answer of this or less is a bad outcome (the well-being break policy and quality sampling read it).
BAD_CSAT_MAX = 2


class ReviewStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    COMPLETED = "completed", "Completed"


class SurveyStatus(models.TextChoices):
    """Where a survey stands: the outbox row waits (pending) until the dispatcher sends or drops it."""

    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    SUPPRESSED = "suppressed", "Suppressed"
    FAILED = "failed", "Failed"


class WebhookDeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (gave up)"


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
