"""Which interaction an inbound e-mail continues: reads only (the import in ``services.inbound`` acts on it).

Two ways in, in this order:

1. **Headers**: any id of ``References`` (every one, not only the first or the last: Outlook and others keep
   only part of a thread) or ``In-Reply-To`` that is the Message-ID of a message on this inbox — one we sent (an
   outbound message keeps its Message-ID in ``Message.external_id``) or one we received. Knowing such an id is
   proof enough of being in the conversation: whoever answers (the customer, a colleague in Cc) joins it. When
   ids of several interactions are named, the newest message decides (a follow-up continues the latest one).
2. **Subject token** ``[#<id>]``: trusted only from a participant of that interaction — the customer's own
   e-mail addresses, or an address that was in From, Reply-To, To or Cc of a person's mail already on it (recorded
   on its ``InboundReceipt``; auto-replies and bounces add nobody). The interaction must be an e-mail one of this inbox (or of none: created by an
   integrator). Anyone else quoting a token (a forwarded thread, a stranger, spam) starts their own interaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q

from config.choices import Channel
from contacts.choices import IdentityChannel
from contacts.models import ContactIdentity
from crm.interactions.models import Interaction, Message

from .models import InboundReceipt, Inbox, ReceiptStatus

EXTERNAL_ID_MAX = Message._meta.get_field("external_id").max_length


def provider_id(message_id: str | None) -> str:
    """A Message-ID as ``Message.external_id`` holds it (cut to the column; every lookup cuts the same way)."""
    return (message_id or "")[:EXTERNAL_ID_MAX]


@dataclass(frozen=True)
class ThreadMatch:
    interaction_id: int
    by: str  # "headers" or "subject"


def thread_by_ids(*, inbox: Inbox, ids: Iterable[str | None]) -> int | None:
    """The interaction of the newest message of this inbox whose Message-ID is one of ``ids``."""
    wanted = sorted({provider_id(value) for value in ids if value})
    if not wanted:
        return None
    return (
        Message.objects.filter(external_id__in=wanted)
        .filter(Q(inbox=inbox) | Q(interaction__inbox=inbox))
        .order_by("-created_at", "-id")
        .values_list("interaction_id", flat=True)
        .first()
    )


def is_participant(*, interaction: Interaction, address: str) -> bool:
    address = (address or "").strip().lower()
    if not address:
        return False
    if interaction.customer.email == address:
        return True
    if ContactIdentity.objects.filter(
        customer_id=interaction.customer_id, channel=IdentityChannel.EMAIL, address=address
    ).exists():
        return True
    # only a person's mail counts: an auto-reply or a bounce on the thread names no one worth trusting
    return InboundReceipt.objects.filter(
        interaction=interaction, status=ReceiptStatus.IMPORTED, participants__contains=[address]
    ).exists()


def thread_by_subject(*, inbox: Inbox, ticket_id: int | None, sender: str) -> int | None:
    if ticket_id is None:
        return None
    interaction = (
        Interaction.objects.filter(pk=ticket_id, channel=Channel.EMAIL)
        .filter(Q(inbox=inbox) | Q(inbox__isnull=True))
        .select_related("customer")
        .first()
    )
    if interaction is None or not is_participant(interaction=interaction, address=sender):
        return None
    return interaction.pk


def thread_of(*, inbox: Inbox, ids: Iterable[str | None], ticket_id: int | None, sender: str) -> ThreadMatch | None:
    """The interaction an inbound mail continues (headers first, then a participant's subject token), or None."""
    found = thread_by_ids(inbox=inbox, ids=ids)
    if found is not None:
        return ThreadMatch(found, "headers")
    found = thread_by_subject(inbox=inbox, ticket_id=ticket_id, sender=sender)
    if found is not None:
        return ThreadMatch(found, "subject")
    return None
