"""What Twilio sends an SMS or WhatsApp inbox: customers' messages (with their media) and the fate of our replies.

* ``twilio_message_receive``: one inbound message, imported once by its ``MessageSid`` through the bridge's
  importer (``bridge_message_receive``: the customer's open conversation, or a new interaction through the normal
  lifecycle). Media (MMS, WhatsApp pictures) are downloaded, redirects followed, and stored as attachments; the
  account's credentials go only to Twilio's media hosts (``TWILIO_MEDIA_HOSTS``): a ``MediaUrl`` elsewhere is
  listed as left out, never fetched. Opt-out words (STOP, UNSUBSCRIBE…) mark the customer's number as opted out
  for the inbox's number (no reply goes to it; the console says why), START and UNSTOP undo it.
* ``twilio_status_report``: a status callback. ``failed`` and ``undelivered`` fail the delivery with Twilio's
  error code (the console shows it, ``message.delivery_failed`` goes to integrators); error 21610 means the number
  opted out. ``delivered`` and (WhatsApp) ``read`` move the reply's status forward, never back: callbacks may
  arrive out of order, and a ``sent`` after ``delivered`` (or a ``failed`` after ``read``) changes nothing.
  ``queued``, ``accepted``, ``sending`` and ``sent`` leave a sent reply sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError

from contacts.services import (
    identity_channel_for,
    identity_mark_deliverable,
    identity_mark_undeliverable,
    normalize_address,
)
from crm.choices import MessageDirection
from crm.interactions.models import Message

from ..adapters import MalformedMessage, adapter_for
from ..adapters.twilio import TwilioAdapter
from ..attachments import attachment_store
from ..models import Delivery, InboundReceipt, Inbox
from .bridge import bridge_message_receive
from .delivery_reports import delivery_fail_reported, delivery_progress_reported

logger = logging.getLogger(__name__)

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"})
START_WORDS = frozenset({"START", "UNSTOP", "YES"})
OPTED_OUT_CODE = "21610"
FAILED_STATUSES = frozenset({"failed", "undelivered"})
PROGRESS_STATUSES = frozenset({"delivered", "read"})


@dataclass(frozen=True)
class TwilioReceipt:
    interaction_id: int
    message_id: int
    created: bool


def twilio_inbox(token: str) -> Inbox | None:
    return Inbox.objects.filter(token=token, is_active=True, adapter__in=("sms", "whatsapp")).first()


def _opt_out_reason(inbox: Inbox) -> str:
    return f"opted out of messages from {inbox.settings.get('from_number', inbox.name)} (STOP)"


def twilio_message_receive(*, inbox: Inbox, payload: bytes) -> TwilioReceipt:
    """Import one inbound message (see the module's docstring). ``MalformedMessage`` for a payload without
    sender or id."""
    adapter: TwilioAdapter = adapter_for(inbox.adapter)(settings=inbox.settings)
    parsed = adapter.parse_inbound(payload)
    earlier = InboundReceipt.objects.filter(inbox=inbox, key=parsed.message_id, message__isnull=False).first()
    attachments = [] if earlier is not None else _media(adapter, adapter.media_urls(payload))
    kept = sum(1 for entry in attachments if "path" in entry)
    body = parsed.text.strip() or (f"[{kept} attachment(s)]" if attachments else "[empty message]")
    received = bridge_message_receive(
        inbox=inbox,
        address=parsed.sender,
        body=body,
        external_id=parsed.message_id,
        name=parsed.sender_name,
        attachments=attachments,
        thread_key=_conversation_key(inbox=inbox, address=parsed.sender),
    )
    word = parsed.text.strip().upper()
    if received.created and word in STOP_WORDS:
        identity_mark_undeliverable(channel=inbox.channel, address=parsed.sender, reason=_opt_out_reason(inbox))
        logger.info("inbox %s: a customer opted out of messages", inbox.pk)
    elif received.created and word in START_WORDS:
        identity_mark_deliverable(channel=inbox.channel, address=parsed.sender)
    return TwilioReceipt(received.interaction.pk, received.message.pk, received.created)


def _conversation_key(*, inbox: Inbox, address: str) -> str:
    """The ``MessageSid`` of the customer's latest message to this inbox: a text message names no thread, so the
    next one joins that conversation (reopened within the follow-up window, a new one after it: the bridge's
    ``_reopened``) instead of starting a new interaction each time. "" for a first message."""
    try:
        kind = identity_channel_for(inbox.channel)
        normalized = normalize_address(channel=kind, address=address)
    except ValidationError:
        return ""
    latest = (
        Message.objects.filter(
            interaction__inbox=inbox,
            direction=MessageDirection.INBOUND,
            interaction__customer__identities__channel=kind,
            interaction__customer__identities__address=normalized,
        )
        .exclude(external_id="")
        .order_by("-created_at", "-id")
        .values_list("external_id", flat=True)
        .first()
    )
    return latest or ""


def _media_host_trusted(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == trusted or host.endswith("." + trusted) for trusted in settings.TWILIO_MEDIA_HOSTS)


def _media(adapter: TwilioAdapter, urls: list[tuple[str, str]]) -> list[dict]:
    entries: list[dict] = []
    limit = settings.TWILIO_MEDIA_MAX_BYTES
    auth = (adapter.settings["account_sid"], adapter.settings["auth_token"])
    for index, (url, content_type) in enumerate(urls):
        name = f"media-{index + 1}.{content_type.rpartition('/')[2] or 'bin'}"
        if not _media_host_trusted(url):
            entries.append({"name": name, "content_type": content_type, "size": 0,
                            "skipped": "not one of Twilio's media hosts: not fetched"})  # fmt: skip
            continue
        try:
            # httpx drops the Authorization header when a redirect leaves the host (Twilio's CDN needs none)
            with httpx.Client(follow_redirects=True, max_redirects=5, timeout=20, trust_env=False) as client:
                with client.stream("GET", url, auth=auth) as response:
                    response.raise_for_status()
                    data = b""
                    for chunk in response.iter_bytes():
                        data += chunk
                        if len(data) > limit:
                            raise ValueError(f"over {limit} bytes")
        except (httpx.HTTPError, ValueError) as exc:
            detail = str(exc) if isinstance(exc, ValueError) else type(exc).__name__
            reason = f"could not be fetched ({detail})"
            entries.append({"name": name, "content_type": content_type, "size": 0, "skipped": reason})
            continue
        entries.append(attachment_store(filename=name, content_type=content_type, data=data))
    return entries


def twilio_status_report(*, inbox: Inbox, fields: dict[str, str]) -> str | None:
    """Apply one status callback; the delivery's status after it, or None when it names no delivery of ours."""
    sid = fields.get("MessageSid") or fields.get("SmsSid") or ""
    status = (fields.get("MessageStatus") or fields.get("SmsStatus") or "").lower()
    delivery = Delivery.objects.filter(inbox=inbox, provider_id=sid).first() if sid else None
    if delivery is None:
        return None
    code = fields.get("ErrorCode") or ""
    if code == OPTED_OUT_CODE:
        recipient = fields.get("To", "").removeprefix("whatsapp:")
        identity_mark_undeliverable(channel=inbox.channel, address=recipient, reason=_opt_out_reason(inbox))
    if status in FAILED_STATUSES:
        error = f"Twilio reports the message {status}" + (f" (error {code})" if code else "")
        return delivery_fail_reported(delivery_id=delivery.pk, error=error)
    if status in PROGRESS_STATUSES:
        return delivery_progress_reported(delivery_id=delivery.pk, status=status)
    return delivery.status


__all__ = ["MalformedMessage", "twilio_inbox", "twilio_message_receive", "twilio_status_report"]
