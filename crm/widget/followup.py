"""Offline (outside the queue's business hours, or nobody available): the visitor leaves an e-mail address and the
conversation continues by e-mail, as a new e-mail interaction of the same customer in the e-mail inbox the chat
inbox names (``email_inbox``), carrying the chat so far and linked to it (``follow_up_of``). Agents answer it like
any e-mail; the customer's replies thread onto it."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext

from contacts.models import ContactIdentity
from contacts.services import identity_add
from crm.choices import MessageDirection
from crm.inboxes.models import Inbox
from crm.interactions import services as lifecycle
from crm.interactions.models import Interaction

from .selectors import widget_conversation
from .services import WidgetRefused


def followup_inbox(inbox: Inbox) -> Inbox | None:
    """The active e-mail inbox the chat continues in, or None when the chat inbox offers no e-mail follow-up."""
    inbox_id = (inbox.settings or {}).get("email_inbox")
    if not inbox_id:
        return None
    return Inbox.objects.select_related("queue").filter(pk=inbox_id, channel="email", is_active=True).first()


def widget_continue_by_email(*, inbox: Inbox, visitor_id: str, email: str) -> Interaction:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise WidgetRefused("invalid", gettext("Please give a valid e-mail address.")) from None
    mail_inbox = followup_inbox(inbox)
    if mail_inbox is None:
        raise WidgetRefused("unavailable", gettext("This chat cannot continue by e-mail."))
    with transaction.atomic():
        chat = widget_conversation(inbox=inbox, visitor_id=visitor_id)
        if chat is None:
            raise WidgetRefused("not_found", gettext("Write your question first, then leave your e-mail address."))
        chat = Interaction.objects.select_for_update(of=("self",)).select_related("customer").get(pk=chat.pk)
        owner = ContactIdentity.objects.filter(channel="email", address=email).select_related("customer").first()
        customer = owner.customer if owner else chat.customer
        if owner is None:
            identity_add(customer=customer, channel="email", address=email)
        lines = [
            f"{'Visitor' if m.direction == MessageDirection.INBOUND else 'Agent'}: {m.body}"
            for m in chat.messages.exclude(direction=MessageDirection.INTERNAL).order_by("created_at", "id")
        ]
        body = "Continued from the website chat (answer by e-mail):\n\n" + "\n\n".join(lines)
        return lifecycle.interaction_create_inbound(
            channel="email",
            customer=customer,
            queue=mail_inbox.queue,
            subject=(chat.subject or "Website chat")[:200],
            body=body[:20000],
            inbox=mail_inbox,
            follow_up_of=chat,
        )
