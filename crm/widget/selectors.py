"""Reads for the widget: the visitor's conversation, its snapshot, and whether anybody can answer now."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import connections, router
from django.db.models import Exists, OuterRef
from django.utils import timezone

from agents.choices import AgentStatus
from agents.models import Agent, AgentSkill
from contacts.models import ContactIdentity
from crm.choices import SURVEY_SCORE_RANGE, InteractionStatus, MessageDirection
from crm.inboxes.models import Inbox
from crm.interactions.models import Interaction, Message
from crm.routing.models import QueueSkill
from crm.sla.services.business_hours import business_seconds_between, calendar_for
from crm.surveys.models import Survey

S = InteractionStatus
GONE = (S.CLOSED, S.ABANDONED)
# what the widget reads of its conversation (another column is read on first use, one query each)
CONVERSATION_FIELDS = ("id", "customer_id", "inbox_id", "channel", "status", "agent_id", "resolved_at", "subject")


def widget_conversation(*, inbox: Inbox, visitor_id: str, include_resolved: bool = False) -> Interaction | None:
    """The visitor's latest conversation through this inbox that is still open (or resolved, when asked): found by
    the visitor's own ``chat`` identity, so no visitor can reach another's. Only the columns the widget uses are
    read (every visitor message reads it: the whole row cost a quarter of the message's CPU), by one statement of a
    fixed text (the ORM built this join afresh for every message: a fifth of the message's CPU); the services that
    change it lock and re-read it."""
    excluded = GONE if include_resolved else (*GONE, S.RESOLVED)
    alias = router.db_for_read(Interaction)
    with connections[alias].cursor() as cursor:
        cursor.execute(_CONVERSATION_SQL, [inbox.pk, visitor_id, [str(status) for status in excluded]])
        row = cursor.fetchone()
    return Interaction.from_db(alias, CONVERSATION_FIELDS, row) if row else None


_CONVERSATION_SQL = (
    "SELECT "  # noqa: S608  (the names are the models' own)
    # in the model's order of fields, the order ``from_db`` takes the values of a deferred instance in
    + ", ".join(f'i."{f.column}"' for f in Interaction._meta.concrete_fields if f.attname in CONVERSATION_FIELDS)
    + f" FROM {Interaction._meta.db_table} i JOIN {ContactIdentity._meta.db_table} ci ON ci.customer_id = i.customer_id"
    " WHERE i.inbox_id = %s AND i.channel = 'chat' AND ci.channel = 'chat' AND ci.address = %s"
    " AND NOT (i.status = ANY(%s)) ORDER BY i.created_at DESC, i.id DESC LIMIT 1"
)


def message_payload(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "from": "visitor" if message.direction == MessageDirection.INBOUND else "agent",
        "body": message.body,
        "at": message.created_at.isoformat(),
    }


def widget_snapshot(*, inbox: Inbox, visitor_id: str) -> dict[str, Any]:
    """What the visitor's widget shows: their conversation (no internal notes), its status, a rating to ask for."""
    conversation = widget_conversation(inbox=inbox, visitor_id=visitor_id, include_resolved=True)
    data: dict[str, Any] = {"conversation": None, "messages": [], "status": None, "rating": None}
    if conversation is not None:
        messages = conversation.messages.exclude(direction=MessageDirection.INTERNAL).order_by("created_at", "id")
        data |= {
            "conversation": conversation.pk,
            "status": conversation.status,
            "messages": [message_payload(message) for message in messages],
            "rating": widget_rating(interaction=conversation),
        }
    data["available"] = widget_available(inbox=inbox)
    data["email_followup"] = bool((inbox.settings or {}).get("email_inbox"))
    return data


def widget_rating(*, interaction: Interaction) -> dict[str, Any] | None:
    """The survey to answer inline, once the conversation is resolved and while it is unanswered."""
    if interaction.status != S.RESOLVED:
        return None
    survey = (
        Survey.objects.filter(interaction=interaction, response__isnull=True, status__in=("pending", "sent"))
        .order_by("id")
        .first()
    )
    if survey is None:
        return None
    low, high = SURVEY_SCORE_RANGE[survey.kind]
    return {"kind": survey.kind, "min": low, "max": high}


def widget_available(*, inbox: Inbox) -> bool:
    """Whether somebody can answer now: the queue's business hours are open and an agent serving it is available."""
    queue = inbox.queue
    policy = getattr(queue, "sla_policy", None)
    calendar = calendar_for(policy.business_hours) if policy is not None else None
    now = timezone.now()
    if calendar is not None and business_seconds_between(calendar, now, now + timedelta(seconds=1)) <= 0:
        return False
    if queue is None or not queue.is_active:
        return False
    # one query (it was one per available agent): an available agent lacking none of the queue's required skills at
    # its minimum level, as ``crm.routing.selectors.queues_served_by`` decides who serves a queue
    held = AgentSkill.objects.filter(
        agent_id=OuterRef(OuterRef("pk")), skill_id=OuterRef("skill_id"), level__gte=OuterRef("min_level")
    )
    lacking = QueueSkill.objects.filter(queue_id=queue.pk).exclude(Exists(held))
    return Agent.objects.filter(status=AgentStatus.AVAILABLE).exclude(Exists(lacking)).exists()
