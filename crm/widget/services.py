"""What a visitor's widget does: write a message (limited), link a verified identity, rate the conversation.

A visitor's message enters like any integrator's inbound message (``crm.inboxes.services.bridge``): once per client
id, onto the visitor's open conversation or a new interaction through the normal lifecycle, so routing, SLA clocks,
surveys and reports see an ordinary ``chat`` contact. Limits (size, rate per visitor and per client address) are
checked first, in Redis, and a refused message stores nothing.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy

from config.errors import DomainError
from config.redis_clients import instance_key
from config.redis_clients import shared as shared_redis
from contacts.models import ContactIdentity
from contacts.services import customer_find_or_create_by_identity, identity_add
from crm.choices import SurveyStatus
from crm.inboxes.models import Inbox
from crm.inboxes.services.bridge import BridgeReceipt, bridge_message_receive
from crm.surveys.models import Survey
from crm.surveys.services import survey_answer, survey_token

from .selectors import widget_conversation


class WidgetRefused(Exception):
    """A visitor's request refused with a reason the widget shows; nothing was stored."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def widget_key(*parts: object) -> str:
    """A Redis key of the widget's (its counters and marks), under the installation's name: installations sharing
    one Redis keep their own limits."""
    return instance_key("widget", *parts)


def widget_check_limits(*, inbox: Inbox, visitor_id: str, address: str, body: str) -> None:
    """``WidgetRefused`` when the message is too long or its sender wrote too much this minute (per visitor and per
    client address: one address cannot get round the limit by starting new visitors)."""
    limit = settings.SWITCHBOARD_WIDGET_MAX_MESSAGE_CHARS
    if len(body) > limit:
        raise WidgetRefused(
            "too_long",
            gettext("Your message is too long (%(length)s characters; at most %(limit)s).")
            % {"length": len(body), "limit": limit},
        )
    if not body.strip():
        raise WidgetRefused("empty", gettext("Your message is empty."))
    window = int(time.time() // 60)
    keys = [
        (widget_key("rate", "v", inbox.pk, visitor_id, window), settings.SWITCHBOARD_WIDGET_MESSAGES_PER_MINUTE),
        (widget_key("rate", "a", address, window), settings.SWITCHBOARD_WIDGET_MESSAGES_PER_MINUTE_PER_ADDRESS),
    ]
    client = shared_redis()  # kept per process (config.redis_clients): not a connection per message
    with client.pipeline(transaction=False) as pipe:
        for key, _ in keys:
            pipe.incr(key)
            pipe.expire(key, 120)
        counts = pipe.execute()[::2]
    for (_, allowed), count in zip(keys, counts, strict=True):
        if allowed and count > allowed:
            raise WidgetRefused("rate_limited", gettext("You are sending messages too fast; please wait a minute."))


PRECHAT_FIELD_NAMES = {
    "name": pgettext_lazy("pre-chat field", "name"),
    "email": pgettext_lazy("pre-chat field", "email"),
}


def widget_check_prechat(*, inbox: Inbox, visitor_id: str, profile: dict[str, str]) -> None:
    """A new conversation needs the pre-chat fields the inbox requires (the widget asks for them first)."""
    missing = [name for name in (inbox.settings or {}).get("prechat", []) if not profile.get(name, "").strip()]
    if missing and widget_conversation(inbox=inbox, visitor_id=visitor_id) is None:
        fields = " / ".join(str(PRECHAT_FIELD_NAMES.get(name, name)) for name in missing)
        raise WidgetRefused("prechat", gettext("Please give your %(fields)s first.") % {"fields": fields})
    if profile.get("email"):
        try:
            validate_email(profile["email"].strip())
        except ValidationError:
            raise WidgetRefused("prechat", gettext("Please give a valid e-mail address.")) from None


def widget_note_prechat_email(*, customer, email: str) -> None:
    """Keep the address a visitor typed into the pre-chat form on their customer, unverified, when nobody else
    owns it (an address someone else owns is never taken over by typing it)."""
    email = email.strip().lower()
    if customer.identities.filter(channel="email").exists():
        return
    if ContactIdentity.objects.filter(channel="email", address=email).exists():
        return
    try:
        identity_add(customer=customer, channel="email", address=email)
    except ValidationError:
        pass


def widget_link_identity(*, visitor_id: str, email: str, name: str = "") -> None:
    """Attach the visitor to the customer a verified e-mail belongs to (made if new): from now on their chats are
    that customer's. A visitor already attached to somebody keeps that customer."""
    if ContactIdentity.objects.filter(channel="chat", address=visitor_id).exists():
        return
    customer, _ = customer_find_or_create_by_identity(channel="email", address=email, name=name)
    try:
        identity_add(customer=customer, channel="chat", address=visitor_id, verified=True)
    except ValidationError:
        pass  # attached meanwhile by the visitor's other tab


def widget_message_receive(
    *, inbox: Inbox, visitor_id: str, body: str, client_id: str, name: str = "", subject: str = ""
) -> BridgeReceipt:
    """Import one message of the visitor (limits already checked); a resend with the same ``client_id`` answers the
    first import. ``WidgetRefused`` for what the visitor can fix."""
    open_conversation = widget_conversation(inbox=inbox, visitor_id=visitor_id)
    try:
        return bridge_message_receive(
            inbox=inbox,
            address=visitor_id,
            body=body,
            external_id=f"widget:{visitor_id}:{client_id}"[:200],
            name=name,
            subject=subject or "Website chat",
            interaction_id=open_conversation.pk if open_conversation else None,
            conversation=open_conversation,  # read just now: not read again
        )
    except ValidationError as exc:
        raise WidgetRefused("invalid", " ".join(exc.messages)) from None
    except DomainError as exc:
        raise WidgetRefused("unavailable", str(exc)) from None


def widget_rate(*, inbox: Inbox, visitor_id: str, interaction_id: int, score, comment: str = "") -> None:
    """Record the visitor's inline rating as the answer to the conversation's survey (the queue's survey kind)."""
    conversation = widget_conversation(inbox=inbox, visitor_id=visitor_id, include_resolved=True)
    if conversation is None or conversation.pk != interaction_id:
        raise WidgetRefused("not_found", gettext("There is no conversation of yours to rate."))
    with transaction.atomic():
        survey = (
            Survey.objects.select_for_update()
            .filter(interaction_id=interaction_id, status__in=(SurveyStatus.PENDING, SurveyStatus.SENT))
            .order_by("id")
            .first()
        )
        if survey is None:
            raise WidgetRefused("not_found", gettext("This conversation has no survey to answer."))
        if survey.status == SurveyStatus.PENDING:  # asked inline: the widget is its channel, nothing is sent later
            survey.status, survey.channel, survey.sent_at = SurveyStatus.SENT, "chat", timezone.now()
            survey.save(update_fields=["status", "channel", "sent_at"])
    try:
        survey_answer(token=survey_token(survey=survey), score=score, comment=str(comment or "")[:2000])
    except (ValidationError, DomainError) as exc:
        raise WidgetRefused("invalid", " ".join(getattr(exc, "messages", [str(exc)]))) from None
