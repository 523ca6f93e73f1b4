"""Which interaction an inbound e-mail continues: ``thread_locked`` finds it and locks it for the import
(``services.inbound``, ``services.noise``), which acts on it.

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

from django.db.models import Q, Subquery

from config.choices import Channel
from contacts.choices import IdentityChannel
from contacts.models import ContactIdentity
from crm.interactions.models import Interaction, Message

from .models import InboundReceipt, Inbox, ReceiptStatus

EXTERNAL_ID_MAX = Message._meta.get_field("external_id").max_length


def provider_id(message_id: str | None) -> str:
    """A Message-ID as ``Message.external_id`` holds it (cut to the column; every lookup cuts the same way)."""
    return (message_id or "")[:EXTERNAL_ID_MAX]


def _newest_by_ids(*, inbox: Inbox, ids: Iterable[str | None]):
    """The interaction ids of this inbox's messages whose Message-ID is one of ``ids``, newest message first (one
    lookup on the ``message_external_id`` index); None when there is no id to look for."""
    wanted = sorted({provider_id(value) for value in ids if value})
    if not wanted:
        return None
    return (
        Message.objects.filter(external_id__in=wanted)
        .filter(Q(inbox=inbox) | Q(interaction__inbox=inbox))
        .order_by("-created_at", "-id")
        .values_list("interaction_id", flat=True)
    )


def thread_by_ids(*, inbox: Inbox, ids: Iterable[str | None]) -> int | None:
    """The interaction of the newest message of this inbox whose Message-ID is one of ``ids``."""
    newest = _newest_by_ids(inbox=inbox, ids=ids)
    return None if newest is None else newest.first()


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


def _locked(queryset) -> Interaction | None:
    return queryset.select_for_update(of=("self",)).first()


def thread_locked(*, inbox: Inbox, ids: Iterable[str | None], ticket_id: int | None, sender: str) -> Interaction | None:
    """The interaction an inbound mail continues (headers first, then a participant's subject token), locked
    (``SELECT … FOR UPDATE``) for the import that acts on it, or None. Found by the headers, it is looked up and
    locked in one statement."""
    newest = _newest_by_ids(inbox=inbox, ids=ids)
    if newest is not None:
        found = _locked(Interaction.objects.filter(pk=Subquery(newest[:1])))
        if found is not None:
            return found
    by_subject = thread_by_subject(inbox=inbox, ticket_id=ticket_id, sender=sender)
    return None if by_subject is None else _locked(Interaction.objects.filter(pk=by_subject))
