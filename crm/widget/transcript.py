"""The conversation's transcript by e-mail, on the visitor's request.

The request is checked (a valid address, a conversation of the visitor's, the message limits, at most
``MAX_PER_CONVERSATION`` transcripts per conversation so the widget cannot be used to mail strangers at will) and
queued on commit; the task builds the text from the messages (internal notes never) and sends it through Django's
mail backend. A request id marked in Redis once its mail left makes a redelivered task send nothing more.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from config.i18n import customer_language
from config.redis_clients import shared as shared_redis
from config.tasks import task_named
from crm.choices import MessageDirection
from crm.inboxes.models import Inbox
from crm.interactions.models import Interaction

from .selectors import widget_conversation
from .services import WidgetRefused, widget_check_limits, widget_key

TRANSCRIPT_TASK = "crm.tasks.widget_transcript_task"
MAX_PER_CONVERSATION = 3
SENT_TTL_SECONDS = 7 * 24 * 3600


def widget_transcript_request(*, inbox: Inbox, visitor_id: str, address: str, email: str) -> str:
    """Queue the transcript of the visitor's conversation to ``email``; answers the address it goes to."""
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise WidgetRefused("invalid", _("Please give a valid e-mail address.")) from None
    conversation = widget_conversation(inbox=inbox, visitor_id=visitor_id, include_resolved=True)
    if conversation is None:
        raise WidgetRefused("not_found", _("There is no conversation to send yet."))
    widget_check_limits(inbox=inbox, visitor_id=visitor_id, address=address, body="transcript")
    count_key = widget_key("transcripts", conversation.pk)
    client = shared_redis()
    if client.incr(count_key) > MAX_PER_CONVERSATION:
        raise WidgetRefused("rate_limited", _("This conversation's transcript was sent enough times already."))
    client.expire(count_key, SENT_TTL_SECONDS)
    request_id = secrets.token_hex(8)
    transaction.on_commit(lambda: task_named(TRANSCRIPT_TASK).delay(conversation.pk, email, request_id))
    return email


def transcript_text(*, interaction: Interaction) -> str:
    lines = []
    for message in interaction.messages.exclude(direction=MessageDirection.INTERNAL).order_by("created_at", "id"):
        who = _("You") if message.direction == MessageDirection.INBOUND else _("Agent")
        at = date_format(message.created_at, "SHORT_DATETIME_FORMAT")  # in UTC: tasks run without a user's zone
        lines.append(f"[{at} UTC] {who}: {message.body}")
    return "\n\n".join(lines)


def widget_transcript_send(*, interaction_id: int, email: str, request_id: str) -> bool:
    """Send one requested transcript; False when this request's mail already left (a redelivered task)."""
    sent_key = widget_key("transcript", "sent", request_id)
    client = shared_redis()
    if client.exists(sent_key):
        return False
    interaction = Interaction.objects.filter(pk=interaction_id).first()
    if interaction is None:
        return False
    with translation.override(customer_language(interaction.customer)):  # the customer's language
        body = _("The transcript of your chat with us:") + "\n\n" + transcript_text(interaction=interaction)
        subject = _("Your chat transcript: %(subject)s") % {"subject": interaction.subject or _("website chat")}
    EmailMessage(subject=subject[:200], body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[email]).send()
    client.set(sent_key, "1", ex=SENT_TTL_SECONDS)
    return True
