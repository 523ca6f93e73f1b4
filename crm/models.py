"""Every model of the crm app, imported from the concern that owns it so Django finds them under the label ``crm``.

The tables keep their names (``crm_<model>``) and the migrations stay in ``crm/migrations``. Code imports a
model from its concern (``crm.routing.models.Queue``); this module exists for Django (and for migrations that
import ``crm.models._validate_time_zone``).
"""

from crm.access.models import ApiKey, IdempotencyRecord
from crm.calls.models import Call
from crm.deadletters.models import DeadLetter
from crm.inboxes.models import Delivery, InboundReceipt, Inbox, MailboxCursor
from crm.interactions.models import Assignment, Interaction, InteractionEvent, Message
from crm.privacy.models import ErasureRequest, ExportRequest, RetentionPolicy
from crm.quality.models import REVIEW_SCALE_MAX, CannedResponse, Review, ReviewScore, Scorecard, ScorecardCriterion
from crm.routing.models import Queue, QueueSkill
from crm.sla.models import (
    BusinessHours,
    BusinessHoursHoliday,
    BusinessHoursPeriod,
    Escalation,
    SLAPolicy,
    SLATarget,
    _validate_time_zone,
)
from crm.surveys.models import Survey, SurveyResponse, SurveySuppressionRule
from crm.webhooks.models import Webhook, WebhookAttempt, WebhookDelivery

__all__ = [
    "REVIEW_SCALE_MAX",
    "ApiKey",
    "Assignment",
    "BusinessHours",
    "BusinessHoursHoliday",
    "BusinessHoursPeriod",
    "Call",
    "CannedResponse",
    "DeadLetter",
    "Delivery",
    "ErasureRequest",
    "Escalation",
    "ExportRequest",
    "IdempotencyRecord",
    "Inbox",
    "InboundReceipt",
    "Interaction",
    "InteractionEvent",
    "MailboxCursor",
    "Message",
    "Queue",
    "QueueSkill",
    "RetentionPolicy",
    "Review",
    "ReviewScore",
    "SLAPolicy",
    "SLATarget",
    "Scorecard",
    "ScorecardCriterion",
    "Survey",
    "SurveyResponse",
    "SurveySuppressionRule",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
    "_validate_time_zone",
]
