"""The interface every channel adapter implements, in the manner of Django's mail backends and storages.

An adapter class is built with an inbox's settings (``adapter_for(inbox.channel)(settings=inbox.settings)``) and
offers two halves:

* ``parse_inbound(payload)`` turns what the provider delivered into a ``ParsedInbound``: who wrote, what, and the
  keys that thread it onto an interaction. Only ``MalformedMessage`` escapes it.
* ``send(message)`` delivers one ``OutboundMessage`` and answers a ``SendResult`` carrying the provider's id, or
  raises ``TemporaryFailure`` (retry later) or ``PermanentFailure`` (retrying cannot help).

Nothing outside an adapter knows a provider's field names; routing, SLA, surveys and reports see only these types.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

from django.utils.module_loading import import_string

# --- Failures ------------------------------------------------------------------------------------------------------


class MalformedMessage(Exception):
    """The inbound payload cannot be turned into a message at all. The caller keeps the raw bytes and the reason
    (a failed import that can be re-run once the parser learns better); partial damage never raises this."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class DeliveryError(Exception):
    """A provider refused or could not be reached. ``code`` is the provider's status (an SMTP reply code such as
    550, or an enhanced status such as "5.1.1") and ``recipient`` the address it concerns, when known."""

    def __init__(self, reason: str, *, code: str | None = None, recipient: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.recipient = recipient


class TemporaryFailure(DeliveryError):
    """Try again later: the server is down, busy, or answered a 4xx."""


class PermanentFailure(DeliveryError):
    """Retrying the same thing cannot succeed: a 5xx, an invalid address, a configuration error."""


class AuthenticationFailed(PermanentFailure):
    """The inbox's credentials (password or OAuth token) were refused: the inbox needs re-authorisation."""


class InvalidSettings(ValueError):
    """An inbox's settings do not suit its adapter; ``errors`` maps each setting to a message for the person."""

    def __init__(self, errors: Mapping[str, str]):
        super().__init__("; ".join(f"{key}: {message}" for key, message in errors.items()))
        self.errors = dict(errors)


# --- Inbound -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboundAttachment:
    filename: str
    content_type: str
    data: bytes = field(repr=False)
    size: int
    inline: bool = False
    content_id: str | None = None  # without angle brackets: what an HTML body's "cid:" URL names


@dataclass(frozen=True)
class SkippedAttachment:
    """An attachment left out (over a size limit); kept so the agent is told what is missing, never dropped."""

    filename: str
    content_type: str
    size: int
    reason: str


@dataclass(frozen=True)
class BounceInfo:
    """What a delivery status notification says about a message we sent."""

    original_message_id: str | None  # the bounced message's id, from its attached copy or headers
    recipient: str | None
    status: str | None  # enhanced status code, e.g. "5.1.1"
    permanent: bool
    diagnostic: str = ""
    action: str = ""  # "failed", "delayed", ...


@dataclass
class ParsedInbound:
    """One inbound message, channel-neutral. Addresses are lower-cased; message ids carry no angle brackets."""

    sender: str
    sender_name: str = ""
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    reply_to: str | None = None
    subject: str = ""
    text: str = ""  # the whole text body, quoted history included
    html: str | None = None  # sanitised; safe to show
    text_display: str = ""  # the text with quoted history trimmed, for the console
    message_id: str = ""
    message_id_synthetic: bool = False  # the message had none: a stable key derived from its content
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()  # every id of the References header, oldest first
    subject_ticket_id: int | None = None  # the n of a "[#n]" token in the subject
    date: datetime.datetime | None = None
    is_auto: bool = False  # auto-reply, bulk, list, junk, loop: recorded, never answered
    auto_reason: str = ""
    is_own: bool = False  # carries our own Message-ID domain: our mail came back
    is_bounce: bool = False
    bounce: BounceInfo | None = None
    attachments: list[InboundAttachment] = field(default_factory=list)
    skipped_attachments: list[SkippedAttachment] = field(default_factory=list)
    raw_size: int = 0
    defects: tuple[str, ...] = ()  # what the parser had to repair; the content was kept

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """Every message id this one answers (References, then In-Reply-To), newest last: match any of them."""
        ids = list(self.references)
        if self.in_reply_to and self.in_reply_to not in ids:
            ids.append(self.in_reply_to)
        return tuple(ids)

    @property
    def is_noise(self) -> bool:
        """Recorded, but opens no work and triggers no automatic answer."""
        return self.is_auto or self.is_bounce or self.is_own


# --- Outbound ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboundAttachment:
    filename: str
    content_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class OutboundMessage:
    """One message to deliver. ``thread_ids`` are the provider ids of the conversation so far, oldest first, the
    answered message last (e-mail uses them for In-Reply-To and References)."""

    to: tuple[str, ...]
    body: str
    html: str | None = None
    subject: str = ""
    interaction_id: int | None = None
    thread_ids: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    attachments: tuple[OutboundAttachment, ...] = ()
    automatic: bool = False  # sent by no person (auto-answer, notice): marked so other robots do not answer it
    # The provider id to send under, when the channel lets the sender choose it (e-mail's Message-ID): stored on the
    # delivery before the first attempt, so that a retry after a crash repeats the same message, not a new one.
    message_id: str | None = None
    reference: str = ""  # our stable id of the message: a receiver de-duplicates a resend by it (the bridge)


@dataclass(frozen=True)
class SendResult:
    provider_id: str
    # recipients the provider refused while accepting the others (address -> reason); not worth a retry
    refused: Mapping[str, str] = field(default_factory=dict)


def json_object(body: bytes) -> dict[str, Any]:
    """A provider's JSON answer as a dict; ``{}`` for anything else (empty, not JSON, a list)."""
    try:
        answer = json.loads(body or b"{}")
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


# --- The interface and its registry ----------------------------------------------------------------------------------


@runtime_checkable
class Adapter(Protocol):
    """What a channel implements. Construct with the inbox's settings (validated by ``validate_settings``)."""

    channel: ClassVar[str]
    # Optional: ``sends_in_request = True`` when ``send`` only publishes locally (no provider on the network), so
    # the delivery outbox sends right after the reply's commit instead of through the task queue (the chat widget).
    # Optional: ``uses_thread_ids = False`` when ``send`` ignores ``OutboundMessage.thread_ids``: they are not read.

    def __init__(self, *, settings: Mapping[str, Any]) -> None: ...

    @classmethod
    def validate_settings(cls, settings: Mapping[str, Any]) -> dict[str, Any]:
        """The cleaned settings, or ``InvalidSettings`` naming each bad one."""
        ...

    @classmethod
    def redact_settings(cls, settings: Mapping[str, Any]) -> dict[str, Any]:
        """The settings with every secret masked: what may be shown or logged after creation."""
        ...

    def parse_inbound(self, payload: bytes) -> ParsedInbound: ...

    def send(self, message: OutboundMessage) -> SendResult: ...


# Dotted paths, imported on first use (as Django finds mail backends): registering a channel costs no import.
_REGISTRY: dict[str, str | type] = {
    "bridge": "crm.inboxes.adapters.bridge.BridgeAdapter",
    "chat": "crm.widget.adapter.ChatAdapter",
    "email": "crm.inboxes.adapters.email.EmailAdapter",
    "sms": "crm.inboxes.adapters.twilio.TwilioAdapter",
    "voice": "crm.calls.adapter.VoiceAdapter",
    "whatsapp": "crm.inboxes.adapters.twilio.TwilioWhatsAppAdapter",
}


def register_adapter(channel: str, adapter: str | type) -> None:
    """Make ``adapter_for(channel)`` answer ``adapter`` (a class or its dotted path). Re-registering replaces."""
    _REGISTRY[channel] = adapter


def registered_channels() -> Sequence[str]:
    return sorted(_REGISTRY)


def adapter_for(channel: str) -> type[Adapter]:
    """The adapter class of a channel; ``LookupError`` for a channel without one."""
    try:
        adapter = _REGISTRY[channel]
    except KeyError:
        raise LookupError(f"No adapter for channel {channel!r} (known: {', '.join(registered_channels())})") from None
    if isinstance(adapter, str):
        adapter = import_string(adapter)
        _REGISTRY[channel] = adapter
    return adapter
