"""What the outbound side of inboxes reads: to whom a reply goes, what it answers, and the console's view of it."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from contacts.models import ContactIdentity
from contacts.services import identity_channel_for
from crm.choices import MessageDirection
from crm.interactions.models import Interaction, Message

from .models import Inbox


def interaction_recipient(*, interaction: Interaction) -> str | None:
    """The customer's address on the interaction's channel: their primary identity of that kind, else their oldest
    one, else (e-mail) the customer's ``email``; None when they have none."""
    try:
        kind = identity_channel_for(interaction.channel)
    except ValidationError:  # a channel without identities: nothing to send to
        return None
    address = (
        ContactIdentity.objects.filter(customer_id=interaction.customer_id, channel=kind)
        .order_by("-is_primary", "created_at", "id")
        .values_list("address", flat=True)
        .first()
    )
    if address:
        return address
    if kind == "email":
        return interaction.customer.email or None
    return None


def interaction_thread_ids(*, interaction: Interaction, before: Message | None = None) -> tuple[str, ...]:
    """The provider ids (e-mail Message-IDs) of the interaction's messages, oldest first, with the customer's latest
    message last: the one a reply answers (``In-Reply-To``). ``before``: only the messages written before it."""
    messages = Message.objects.filter(interaction_id=interaction.pk).exclude(external_id="")
    messages = messages.exclude(direction=MessageDirection.INTERNAL)
    if before is not None:
        messages = messages.filter(pk__lt=before.pk)
    rows = list(messages.order_by("created_at", "id").values_list("external_id", "direction"))
    ids = list(dict.fromkeys(external_id for external_id, _ in rows))
    inbound = [external_id for external_id, direction in rows if direction == MessageDirection.INBOUND]
    if inbound:
        ids.remove(inbound[-1])
        ids.append(inbound[-1])
    return tuple(ids)


def inbox_sender_address(*, inbox: Inbox) -> str:
    """The address replies go out from, for display (an e-mail inbox's support address; else its name)."""
    settings = inbox.settings if isinstance(inbox.settings, dict) else {}
    return str(settings.get("address") or inbox.display_name or inbox.name)


def conversation_with_deliveries(*, messages: QuerySet[Message]) -> QuerySet[Message]:
    """``messages`` with each one's delivery joined in (``message.delivery``), for the console: no query per row."""
    return messages.select_related("delivery")


def interaction_reply_route(*, interaction: Interaction) -> dict[str, str] | None:
    """Where the console's reply box says a reply goes: ``{"to", "sender", "inbox"}``; None without an inbox (the
    reply is recorded, not sent). One query for the customer's address (the inbox comes with the interaction)."""
    inbox = interaction.inbox
    if inbox is None:
        return None
    return {
        "to": interaction_recipient(interaction=interaction) or "",
        "sender": inbox_sender_address(inbox=inbox),
        "inbox": inbox.name,
    }
