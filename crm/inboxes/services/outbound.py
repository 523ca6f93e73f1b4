"""One delivery as the channel-neutral ``OutboundMessage`` its inbox's adapter sends."""

from __future__ import annotations

from django.utils.html import linebreaks

from ..adapters import OutboundAttachment, OutboundMessage, PermanentFailure, adapter_for
from ..attachments import attachment_is_listed, attachment_is_stored, attachment_read
from ..models import Delivery
from ..selectors import interaction_recipient_state, interaction_thread_ids
from .windows import check_reply_window


def outbound_message_for(*, delivery: Delivery) -> OutboundMessage:
    """To the customer's address on the channel, answering the conversation so far (``thread_ids``: the provider
    ids of its messages, the customer's latest last), with the agent's text, an HTML part made from it, and the
    files the agent attached. ``PermanentFailure`` when the customer has no address or a file is gone."""
    message = delivery.message
    interaction = message.interaction
    recipient, refused = interaction_recipient_state(interaction=interaction)
    if not recipient:
        raise PermanentFailure(
            f"the customer has no {interaction.get_channel_display().lower()} address to send to", code="no_address"
        )
    if refused:
        raise PermanentFailure(f"not sent: {recipient} {refused}", code="recipient_refused", recipient=recipient)
    check_reply_window(delivery=delivery)
    attachments = []
    for entry in message.attachments or []:
        if not attachment_is_listed(entry) or not attachment_is_stored(entry):
            continue  # described by a URL only: nothing of ours to attach
        try:
            data = attachment_read(entry)
        except OSError as exc:
            raise PermanentFailure(f"the attachment {entry.get('name')!r} cannot be read: {exc}") from exc
        attachments.append(
            OutboundAttachment(
                filename=str(entry.get("name") or "attachment"),
                content_type=str(entry.get("content_type") or "application/octet-stream"),
                data=data,
            )
        )
    return OutboundMessage(
        to=(recipient,),
        body=message.body,
        html=linebreaks(message.body, autoescape=True),
        subject=interaction.subject,
        interaction_id=interaction.pk,
        # the conversation's provider ids, for an adapter that threads by them (e-mail's References): one query
        thread_ids=interaction_thread_ids(interaction=interaction, before=message) if _threads(delivery) else (),
        attachments=tuple(attachments),
        reference=str(message.pk),
    )


def _threads(delivery: Delivery) -> bool:
    """Whether the delivery's adapter uses ``thread_ids`` (all do unless they say ``uses_thread_ids = False``)."""
    try:
        return getattr(adapter_for(delivery.inbox.adapter), "uses_thread_ids", True)
    except LookupError:
        return True
