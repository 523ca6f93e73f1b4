"""Importing what arrives at an e-mail inbox (raw RFC 822 bytes from the endpoint or from IMAP), once.

``email_receive`` records an ``InboundReceipt`` per (inbox, key) — the key is the Message-ID, or the parser's
synthetic one for mail without — in the same transaction as what the mail causes, so a message delivered twice,
by two workers at once or again after a crash, is imported once: the unique index makes the second wait for the
first and then find its receipt. Then the mail is, in this order:

* **unreadable** (``MalformedMessage``, or an inbox whose settings cannot read mail): receipt ``failed`` with the
  reason and the raw bytes, to be run again from the admin (``receipt_rerun``). Never an exception to the caller;
  anything a later step refuses (a queue that no longer serves e-mail) is recorded the same way.
* **noise** (auto-replies, bounces, our own mail come back, mail from the inbox's own address): receipt
  ``noise``, kept beside its thread as an internal note when it has one (``services.noise``). It opens no work,
  reopens nothing, moves no SLA clock and is answered by nothing.
* **a reply** (``crm.inboxes.threads``): joins its interaction as an inbound message. A resolved interaction is
  reopened within ``SWITCHBOARD_FOLLOW_UP_DAYS`` of its resolution; after that, or once closed, the reply starts
  a new interaction linked to it (``follow_up_of``). The customer stays the interaction's: a different sender (a
  colleague in Cc) is recorded as the receipt's sender, never made the customer.
* **anything else**: a new interaction through ``interaction_create_inbound``, like an integrator's, so routing,
  SLA, surveys and reports work unchanged. The customer is found by the From address, never by Reply-To.

The message's body is the text with quoted history trimmed (cut to ``SWITCHBOARD_MAX_MESSAGE_LENGTH``); files,
the HTML body and the whole text are in ``Message.attachments`` (``services.files``).
"""

from __future__ import annotations

import hashlib
import logging
from contextvars import ContextVar
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from config.choices import Channel
from config.errors import DomainError
from config.rows import row_save_fields
from config.savepoints import whole_step
from crm.choices import InteractionStatus, MessageDirection
from crm.interactions.models import Interaction, Message
from crm.interactions.services import (
    CLOSED_TO_MESSAGES,
    interaction_create_inbound,
    interaction_reopen,
    message_create,
)

from ..adapters import adapter_for
from ..adapters.base import InvalidSettings, MalformedMessage, ParsedInbound
from ..models import InboundReceipt, Inbox, ReceiptStatus
from ..threads import provider_id, thread_locked
from .files import StoredFiles, store_message_files
from .noise import noise_reason, noise_record
from .receipts import insert_unless_present

logger = logging.getLogger(__name__)

KEY_MAX = InboundReceipt._meta.get_field("key").max_length
SUBJECT_MAX = Interaction._meta.get_field("subject").max_length
IMPORTING = "importing"  # a new receipt's reason until its import commits; nobody sees it uncommitted
EMPTY_BODY = "(no text)"
SHORTENED = "\n\n[…] (shortened: the whole text is attached as message.txt)"

# The messages the lifecycle writes while a mail creates its interaction (the ``message_saved`` hook fills it,
# ``crm.inboxes.hooks``): the receipt names the first one without reading it back.
_written: ContextVar[list[Message] | None] = ContextVar("inbound_messages_written", default=None)


def note_message_written(*, message: Message) -> None:
    """``message_saved`` hook: keep the message when an import is creating an interaction in this context."""
    written = _written.get()
    if written is not None:
        written.append(message)


def email_receive(*, inbox: Inbox, raw: bytes, source: str) -> InboundReceipt:
    """Import one raw message into ``inbox`` once. Answers its receipt; ``receipt.duplicate`` is True when the
    message had already been imported (or recorded as noise) and nothing was done this time."""
    raw = bytes(raw)
    parsed, failure = parse_for_inbox(inbox=inbox, raw=raw)
    key = _key(parsed=parsed, raw=raw)
    try:
        # one transaction (or savepoint) for the whole import: the lifecycle and the message open none inside it
        with whole_step():
            receipt, fresh = _claim(inbox=inbox, key=key, raw=raw, source=source, parsed=parsed)
            if not fresh and receipt.status != ReceiptStatus.FAILED:
                receipt.duplicate = True
                return receipt
            import_into(receipt=receipt, inbox=inbox, raw=raw, parsed=parsed, failure=failure, again=not fresh)
    except Exception as exc:
        if isinstance(exc, OperationalError | InterfaceError):
            raise  # the database is gone: nothing can be recorded, the sender must try again
        log_failure(exc, "inbound mail %s to inbox %s could not be imported", key, inbox.pk)
        return _record_failure(inbox=inbox, key=key, raw=raw, source=source, parsed=parsed, reason=failure_reason(exc))
    receipt.duplicate = False
    return receipt


def email_receive_oversized(*, inbox: Inbox, key: str, size: int, source: str) -> InboundReceipt:
    """Record a message too large to fetch (left where it is): a failed receipt naming its size, no raw bytes."""
    reason = f"larger than the limit of {settings.SWITCHBOARD_EMAIL_MAX_BYTES} bytes ({size} bytes): not imported"
    with transaction.atomic():
        receipt, fresh = _claim(inbox=inbox, key=key[:KEY_MAX], raw=b"", source=source, parsed=None)
        if fresh:
            receipt.reason, receipt.size = reason, size
            receipt.save(update_fields=["reason", "size"])
    receipt.duplicate = not fresh
    return receipt


def receipt_rerun(*, receipt: InboundReceipt) -> InboundReceipt:
    """Run a failed import again from its kept raw bytes (after the parser or the inbox's set-up was fixed).
    Success turns the receipt imported (or noise) and drops the raw bytes; another failure records its reason.
    A receipt that is not failed, or kept no bytes, is answered unchanged."""
    with transaction.atomic():
        locked = InboundReceipt.objects.select_for_update().select_related("inbox").get(pk=receipt.pk)
        if locked.status != ReceiptStatus.FAILED or not locked.raw:
            return locked
        raw = bytes(locked.raw)
        parsed, failure = parse_for_inbox(inbox=locked.inbox, raw=raw)
        try:
            with transaction.atomic():
                import_into(receipt=locked, inbox=locked.inbox, raw=raw, parsed=parsed, failure=failure, again=True)
        except Exception as exc:
            if isinstance(exc, OperationalError | InterfaceError):
                raise
            log_failure(exc, "inbound receipt %s failed again", locked.pk)
            locked.refresh_from_db()
            locked.attempts += 1
            locked.reason = failure_reason(exc)
            locked.save(update_fields=["attempts", "reason"])
    return locked


# --- the steps -----------------------------------------------------------------------------------------------------


def parse_for_inbox(*, inbox: Inbox, raw: bytes) -> tuple[ParsedInbound | None, str]:
    """The parsed message, or None and why it cannot be read."""
    adapter_settings = dict(inbox.settings or {})
    if inbox.adapter == "email":  # the center's limits are ceilings: an inbox may only set lower ones
        for name, ceiling in (
            ("max_attachment_bytes", settings.SWITCHBOARD_EMAIL_MAX_ATTACHMENT_BYTES),
            ("max_total_bytes", settings.SWITCHBOARD_EMAIL_MAX_BYTES),
        ):
            own = adapter_settings.get(name)
            usable = isinstance(own, int) and not isinstance(own, bool) and own > 0
            adapter_settings[name] = min(own, ceiling) if usable else ceiling
    try:
        adapter = adapter_for(inbox.adapter)(settings=adapter_settings)
    except (LookupError, InvalidSettings) as exc:
        return None, f"the inbox cannot read mail: {exc}"
    try:
        return adapter.parse_inbound(raw), ""
    except MalformedMessage as exc:
        return None, f"unreadable message: {exc.reason}"


def _key(*, parsed: ParsedInbound | None, raw: bytes) -> str:
    return receipt_key(message_id=parsed.message_id if parsed is not None else None, raw=raw)


def receipt_key(*, message_id: str | None, raw: bytes) -> str:
    """The receipt's de-duplication key: the message's id (``None``: it cannot be read), hashed when too long."""
    if message_id is None:  # the bytes themselves: the same unreadable mail delivered twice is one receipt
        return f"{hashlib.sha256(raw).hexdigest()}@unreadable.switchboard.invalid"
    if len(message_id) <= KEY_MAX:
        return message_id
    return f"sha256:{hashlib.sha256(message_id.encode('utf-8', 'surrogateescape')).hexdigest()}"


def participants_of(*, inbox: Inbox, parsed: ParsedInbound | None) -> list[str]:
    if parsed is None:
        return []
    return participants_named(inbox=inbox, named=[parsed.sender, parsed.reply_to or "", *parsed.to, *parsed.cc])


def participants_named(*, inbox: Inbox, named) -> list[str]:
    """The receipt's participants: every address named but the inbox's own, once each, in order."""
    own = str((inbox.settings or {}).get("address") or "").lower()
    return [address[:254] for address in dict.fromkeys(named) if address and address != own]


def _claim(
    *, inbox: Inbox, key: str, raw: bytes, source: str, parsed: ParsedInbound | None
) -> tuple[InboundReceipt, bool]:
    """The receipt of (inbox, key), created (True) or found and locked (False). A concurrent import of the same
    key holds the unique index: this waits until it commits, then finds its receipt. One statement for a new key
    (``INSERT … ON CONFLICT DO NOTHING``: no savepoint to recover from the duplicate's error)."""
    receipt = InboundReceipt(
        inbox=inbox,
        key=key,
        status=ReceiptStatus.FAILED,
        reason=IMPORTING,
        size=len(raw),
        source=source[:16],
        sender=(parsed.sender if parsed else "")[:254],
        participants=participants_of(inbox=inbox, parsed=parsed),
        received_at=timezone.now(),
    )
    if insert_unless_present(receipt):
        return receipt, True
    return InboundReceipt.objects.select_for_update().get(inbox=inbox, key=key), False


def _record_failure(
    *, inbox: Inbox, key: str, raw: bytes, source: str, parsed: ParsedInbound | None, reason: str
) -> InboundReceipt:
    with transaction.atomic():
        receipt, fresh = _claim(inbox=inbox, key=key, raw=raw, source=source, parsed=parsed)
        if not fresh and receipt.status != ReceiptStatus.FAILED:  # imported meanwhile by another worker
            receipt.duplicate = True
            return receipt
        receipt.attempts = 1 if fresh else receipt.attempts + 1
        receipt.status, receipt.reason, receipt.raw, receipt.size = ReceiptStatus.FAILED, reason, raw, len(raw)
        receipt.save(update_fields=["attempts", "status", "reason", "raw", "size"])
    receipt.duplicate = False
    return receipt


def log_failure(exc: Exception, message: str, *args) -> None:
    if isinstance(exc, ValidationError | DomainError):  # a refusal of the set-up (a queue not serving e-mail)
        logger.warning(message + ": %s", *args, failure_reason(exc))
    else:  # a fault of ours: the traceback is wanted
        logger.exception(message, *args)


def failure_reason(exc: Exception) -> str:
    messages = getattr(exc, "messages", None)
    text = " ".join(messages) if messages else str(exc)
    return f"{type(exc).__name__}: {text}"[:2000]


def import_into(
    *,
    receipt: InboundReceipt,
    inbox: Inbox,
    raw: bytes,
    parsed: ParsedInbound | None,
    failure: str,
    again: bool,
    also: tuple[str, ...] = (),
) -> None:
    """Import into ``receipt`` (locked, in the caller's transaction); an exception leaves it to the caller.
    ``also``: more of the receipt's fields the caller changed, saved with it."""
    fields = ["status", "reason", "raw", "size", "interaction", "message", *also]
    if again:
        receipt.attempts += 1
        fields.append("attempts")
    receipt.size = len(raw)
    if parsed is None:
        receipt.status, receipt.reason, receipt.raw = ReceiptStatus.FAILED, failure, raw
        receipt.interaction = receipt.message = None
        receipt.save(update_fields=fields)
        return
    noise = noise_reason(inbox=inbox, parsed=parsed)
    text, trimmed = _body(parsed=parsed, noise=noise)
    files = store_message_files(inbox_id=inbox.pk, parsed=parsed, keep_full_text=trimmed)
    try:
        if noise:
            interaction, message = noise_record(inbox=inbox, parsed=parsed, body=text, attachments=files.entries)
        else:
            interaction, message = _deliver(inbox=inbox, parsed=parsed, body=text, files=files)
    except BaseException:
        files.discard()
        raise
    if message is None:  # nothing refers to them
        files.discard()
    receipt.status = ReceiptStatus.NOISE if noise else ReceiptStatus.IMPORTED
    receipt.reason, receipt.raw = noise, None
    receipt.interaction, receipt.message = interaction, message
    row_save_fields(receipt, fields)  # the UPDATE from a statement built once per field list (config.rows)


def _clean(text: str) -> str:
    return (text or "").replace("\x00", "")  # PostgreSQL text holds no NUL; nothing else is changed


def _body(*, parsed: ParsedInbound, noise: str) -> tuple[str, bool]:
    """The message's body and whether the whole text must be kept beside it (trimmed or shortened)."""
    whole = _clean(parsed.text).strip()
    text = _clean(parsed.text_display).strip() or whole
    trimmed = bool(whole) and text != whole
    if noise:
        text = f"{noise}\n\n{text}".strip()
    text = text or EMPTY_BODY
    limit = settings.SWITCHBOARD_MAX_MESSAGE_LENGTH
    if len(text) > limit:
        text = text[: limit - len(SHORTENED)] + SHORTENED
        trimmed = True
    return text, trimmed


def _deliver(
    *, inbox: Inbox, parsed: ParsedInbound, body: str, files: StoredFiles
) -> tuple[Interaction, Message | None]:
    """A reply to its thread (reopening or following it up), anything else to a new interaction."""
    subject = _clean(parsed.subject)[:SUBJECT_MAX]
    external_id = provider_id(parsed.message_id)
    interaction = thread_locked(
        inbox=inbox, ids=parsed.thread_ids, ticket_id=parsed.subject_ticket_id, sender=parsed.sender
    )
    if interaction is not None:
        if interaction.status == InteractionStatus.RESOLVED and _within_follow_up(interaction):
            interaction = interaction_reopen(interaction=interaction)
        if interaction.status != InteractionStatus.RESOLVED and interaction.status not in CLOSED_TO_MESSAGES:
            message = message_create(
                interaction=interaction,
                direction=MessageDirection.INBOUND,
                body=body,
                attachments=files.entries,
                external_id=external_id,
                inbox=inbox,
            )
            return interaction, message
        # resolved too long ago, closed or abandoned: a new contact on the same customer, linked to the old one
        return _create(
            channel=Channel.EMAIL,
            customer=interaction.customer,
            queue=inbox.queue,
            subject=subject or interaction.subject,
            body=body,
            inbox=inbox,
            message_external_id=external_id,
            attachments=files.entries,
            follow_up_of=interaction,
        )
    return _create(
        channel=Channel.EMAIL,
        customer_identity={"address": parsed.sender, "name": _clean(parsed.sender_name), "channel": "email"},
        queue=inbox.queue,
        subject=subject,
        body=body,
        inbox=inbox,
        message_external_id=external_id,
        attachments=files.entries,
    )


def _create(**arguments) -> tuple[Interaction, Message | None]:
    """A new interaction through the lifecycle, and its first message (the mail)."""
    written: list[Message] = []
    token = _written.set(written)
    try:
        created = interaction_create_inbound(**arguments)
    finally:
        _written.reset(token)
    first = next((message for message in written if message.interaction_id == created.pk), None)
    return created, first if first is not None else created.messages.order_by("id").first()


def _within_follow_up(interaction: Interaction) -> bool:
    if interaction.queue_id is None or interaction.resolved_at is None:
        return False  # nowhere to return to: a follow-up interaction instead
    return interaction.resolved_at >= timezone.now() - timedelta(days=settings.SWITCHBOARD_FOLLOW_UP_DAYS)
