"""Inbound messages an integrator's bridge hands over (``POST /api/v1/inboxes/{id}/messages/``).

Each message is imported once per inbox by its ``external_id`` (an ``InboundReceipt`` keyed by it: a retried or
concurrent duplicate POST finds the first one's message). It joins an earlier conversation of the same customer —
the ``interaction`` named, or the one holding the message whose ``external_id`` is the ``thread_key`` — while that
conversation is open, reopening it when it was resolved within ``SWITCHBOARD_FOLLOW_UP_DAYS``; otherwise it starts
a new interaction through the normal lifecycle (routing, SLA, surveys unchanged; a repeat contact is linked).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext

from config.errors import DomainError
from config.rows import row_save_fields
from config.savepoints import whole_step
from contacts.models import Customer
from contacts.services import customer_find_or_create_by_identity
from crm.choices import InteractionStatus, MessageDirection
from crm.interactions import services as lifecycle
from crm.interactions.models import Interaction, Message

from ..models import InboundReceipt, Inbox, ReceiptStatus
from .receipts import insert_unless_present

S = InteractionStatus
CLOSED = frozenset({S.CLOSED, S.ABANDONED})


@dataclass(frozen=True)
class BridgeReceipt:
    interaction: Interaction
    message: Message
    created: bool  # False: the external_id was imported before, and this is that import's message
    new_interaction: bool = False


def bridge_message_receive(
    *,
    inbox: Inbox,
    address: str,
    body: str,
    external_id: str,
    name: str = "",
    subject: str = "",
    interaction_id: int | None = None,
    thread_key: str = "",
    attachments: Iterable[Mapping[str, Any]] = (),
    conversation: Interaction | None = None,
) -> BridgeReceipt:
    """Import one inbound message of ``inbox`` from the customer at ``address`` (see the module's docstring).
    ``conversation``: the interaction ``interaction_id`` names, when the caller has just read it *through the
    identity at* ``address`` (the widget's visitor: only that customer's own can be found so): the message joins it
    while it is open, without the customer or the conversation being read again. ``ValidationError`` names a bad
    field; ``DomainError`` when the inbox is deactivated."""
    if not inbox.is_active:
        raise DomainError(
            gettext("The inbox %(name)s is deactivated; it takes no messages.") % {"name": inbox.name},
            code="inbox_inactive",
        )
    lifecycle.message_check_body(body=body)
    # one savepoint at most, for the whole import (config.savepoints): nothing inside catches an error and goes on
    # but ``_reopened``, around a transition with a savepoint of its own
    with whole_step():
        receipt = InboundReceipt(
            inbox=inbox,
            key=external_id,
            status=ReceiptStatus.IMPORTED,
            source="api",
            size=len(body.encode()),
            received_at=timezone.now(),
        )
        # one statement (INSERT … ON CONFLICT DO NOTHING): no savepoint to recover from a duplicate's error
        if not insert_unless_present(receipt):
            earlier = InboundReceipt.objects.select_related("interaction", "message").get(inbox=inbox, key=external_id)
            if earlier.message is None:
                raise ValidationError({"external_id": gettext("This id was recorded before without a message.")})
            return BridgeReceipt(interaction=earlier.interaction, message=earlier.message, created=False)
        customer = None
        if conversation is not None and conversation.pk == interaction_id:
            thread = conversation  # the sender's own (see above): their customer is not needed to join it
        else:
            customer = _sender(inbox=inbox, address=address, name=name)
            thread = _thread(customer=customer, interaction_id=interaction_id, thread_key=thread_key)
        thread = _reopened(thread) if thread is not None else None
        if thread is not None:
            message = lifecycle.message_create(
                interaction=thread,
                direction=MessageDirection.INBOUND,
                body=body,
                attachments=attachments,
                external_id=external_id,
                inbox=inbox,
            )
            interaction, new_interaction = thread, False
        else:
            interaction = lifecycle.interaction_create_inbound(
                channel=inbox.channel,
                customer=customer or _sender(inbox=inbox, address=address, name=name),
                queue=inbox.queue,
                subject=subject,
                body=body,
                inbox=inbox,
                message_external_id=external_id,
                attachments=attachments,
            )
            message = Message.objects.filter(interaction=interaction).order_by("id").first()
            new_interaction = True
        receipt.interaction, receipt.message = interaction, message
        row_save_fields(receipt, ["interaction", "message"])
    return BridgeReceipt(interaction=interaction, message=message, created=True, new_interaction=new_interaction)


def _sender(*, inbox: Inbox, address: str, name: str) -> Customer:
    """The customer at ``address`` on the inbox's channel, made on first contact."""
    try:
        return customer_find_or_create_by_identity(channel=inbox.channel, address=address, name=name)[0]
    except ValidationError as exc:
        raise ValidationError({"customer": exc.messages}) from None


def _thread(*, customer: Customer, interaction_id: int | None, thread_key: str) -> Interaction | None:
    """The customer's conversation the message answers, if it names one; never another customer's."""
    if interaction_id is not None:
        found = Interaction.objects.filter(pk=interaction_id, customer=customer).first()
        if found is None:
            raise ValidationError(
                {
                    "interaction": gettext("No interaction %(interaction_id)s of this customer.")
                    % {"interaction_id": interaction_id}
                }
            )
        return found
    if thread_key:
        answered = (
            Message.objects.filter(external_id=thread_key, interaction__customer=customer)
            .exclude(direction=MessageDirection.INTERNAL)
            .select_related("interaction")
            .order_by("-created_at", "-id")
            .first()
        )
        return answered.interaction if answered is not None else None
    return None


def _reopened(interaction: Interaction) -> Interaction | None:
    """The conversation, reopened if it was resolved recently; None when a new interaction must start."""
    if interaction.status in CLOSED:
        return None
    if interaction.status != S.RESOLVED:
        return interaction
    window = timedelta(days=settings.SWITCHBOARD_FOLLOW_UP_DAYS)
    if interaction.resolved_at is None or timezone.now() - interaction.resolved_at > window:
        return None
    try:  # the transition has a savepoint of its own (an explicit atomic, not a unit): a refusal rolls back only it
        return lifecycle.interaction_reopen(interaction=interaction)
    except DomainError:
        return None  # no queue to return to: a new interaction (linked as a follow-up) instead
