"""Raw RFC 822 bytes to a ``ParsedInbound``, with the standard library's ``email`` package (policy ``default``).

Robust by rule: partial damage is repaired and listed in ``defects``, content is decoded with fallbacks rather
than replaced, over-limit attachments are listed rather than dropped. Only ``MalformedMessage`` escapes, for
input that is no mail at all (no header, no sender) or that the library cannot take apart (MIME nested thousands
of levels deep); the caller keeps the raw bytes and the reason.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import re
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from email.policy import EmailPolicy
from email.utils import getaddresses, parsedate_to_datetime

from crm.inboxes.adapters.base import MalformedMessage, ParsedInbound
from crm.inboxes.adapters.email.compose import ticket_id_from_subject
from crm.inboxes.adapters.email.decoding import Headers, decode_header_value, unescape_surrogates
from crm.inboxes.adapters.email.html import sanitize_html
from crm.inboxes.adapters.email.mime import Limits, walk
from crm.inboxes.adapters.email.noise import auto_reason, bounce_info, looks_like_bounce
from crm.inboxes.adapters.email.quotes import trim_quoted

DEFAULT_MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_TOTAL_BYTES = 25 * 1024 * 1024
MAX_REFERENCES = 500  # a References header is a thread's ids; thousands are abuse, not a thread
SYNTHETIC_DOMAIN = "synthetic.switchboard.invalid"

_ID = re.compile(r"<([^<>\s]+)>")
_FORWARD_SUBJECT = re.compile(r"^\s*(?:fwd?|wg|tr|rv|enc)\s*:", re.IGNORECASE)
# Trace headers differ between two deliveries of the same message (IMAP copy and MTA pipe): not part of its key.
_KEY_HEADERS = ("from", "to", "cc", "subject", "date")
_MIME_HEADERS = frozenset({"content-type", "content-disposition", "content-transfer-encoding"})


class _Policy(EmailPolicy):
    """``email.policy.default`` (the same settings and header classes) that parses each distinct value of a MIME
    header once. The library parses a header again on every read: ``get_content_type``, ``get_param``,
    ``get_content_charset``, ``get_filename`` and ``get_payload(decode=True)`` of one part read its Content-Type
    ten times over, most of the parsing time of a plain mail. A parsed header is an immutable string, and the same
    value parses to the same header, so one parse serves every read, of this mail and of the next ones (a handful
    of values, ``text/plain; charset="utf-8"`` above all, make up most mail)."""

    def header_fetch_parse(self, name, value):
        if hasattr(value, "name") or name.lower() not in _MIME_HEADERS:
            return super().header_fetch_parse(name, value)
        return _parsed_mime_header(name, value)


POLICY = _Policy()


@functools.lru_cache(maxsize=1024)
def _parsed_mime_header(name: str, value: str):
    return EmailPolicy.header_fetch_parse(POLICY, name, value)


def parse_message(
    raw: bytes,
    *,
    own_domain: str | None = None,
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
) -> ParsedInbound:
    """Parse one raw message. ``own_domain`` is the domain of the Message-IDs we generate: mail carrying it is our
    own come back (``is_own``). An attachment over ``max_attachment_bytes``, or past ``max_total_bytes`` for the
    whole message, lands in ``skipped_attachments``."""
    raw = _message_bytes(raw)
    try:
        return _parse(raw, own_domain, Limits(max_attachment_bytes, max_total_bytes))
    except MalformedMessage:
        raise
    except RecursionError:
        raise MalformedMessage("MIME parts nested too deeply to read") from None
    except Exception as exc:  # the promise: one exception type for any input, whatever the library trips on
        raise MalformedMessage(f"unreadable message ({type(exc).__name__}: {exc})") from exc


def _message_bytes(raw) -> bytes:
    """The message's bytes as both readings take them; ``MalformedMessage`` for anything else or nothing."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise MalformedMessage(f"expected the message's bytes, got {type(raw).__name__}")
    # Some pipes and HTTP clients put blank lines before the headers; a header block must start the message.
    raw = bytes(raw).lstrip(b"\r\n")
    if not raw.strip():
        raise MalformedMessage("empty message")
    return raw


def message_key(raw: bytes) -> str:
    """The Message-ID ``parse_message`` would give ``raw`` (its own, or the same synthetic one for a message
    without), from the headers alone: what a queued import de-duplicates on before the message is read whole.
    ``MalformedMessage`` for what ``parse_message`` refuses by its headers (empty, no header, no sender)."""
    return message_key_sender_and_named(raw)[0]


def message_key_sender_and_named(raw: bytes) -> tuple[str, str, tuple[str, ...]]:
    """``message_key``, the sender and every address the message names, as ``parse_message`` reads them (the
    sender, Reply-To's first, To, Cc): what a queued mail's receipt records before its import, so that an erasure
    finds it while it waits."""
    raw = _message_bytes(raw)
    try:
        headers = _headers(BytesHeaderParser(policy=POLICY).parsebytes(_head(raw)))
        _, sender = _sender(headers)
        reply_to = _addresses(headers, "Reply-To")
        named = (
            sender,
            reply_to[0][1] if reply_to else "",
            *(address for _, address in _addresses(headers, "To")),
            *(address for _, address in _addresses(headers, "Cc")),
        )
        return _first_id(headers.first("Message-ID")) or _synthetic_id(raw), sender, named
    except MalformedMessage:
        raise
    except Exception as exc:
        raise MalformedMessage(f"unreadable message ({type(exc).__name__}: {exc})") from exc


def _head(raw: bytes) -> bytes:
    """The header block and the blank line after it: all a headers-only reading reads (the parser would read the
    body into the message too). Cutting after a later blank line than the first one the parser sees (it also ends
    lines at a lone CR) changes nothing: the parser stops at its own."""
    cuts = [found + len(blank) for blank in (b"\r\n\r\n", b"\n\n") if (found := raw.find(blank)) >= 0]
    return raw[: min(cuts)] if cuts else raw


def _parse(raw: bytes, own_domain: str | None, limits: Limits) -> ParsedInbound:
    message: EmailMessage = BytesParser(policy=POLICY).parsebytes(raw)  # type: ignore[assignment]
    headers = _headers(message)
    sender_name, sender = _sender(headers)
    subject = headers.first("Subject")
    message_id = _first_id(headers.first("Message-ID"))
    body = walk(message, limits)
    text = body.text()
    bounce = bounce_info(message) if looks_like_bounce(message, sender=sender, subject=subject) else None
    reply_to = _addresses(headers, "Reply-To")
    auto = auto_reason(headers, sender=sender)
    return ParsedInbound(
        sender=sender,
        sender_name=sender_name,
        to=tuple(address for _, address in _addresses(headers, "To")),
        cc=tuple(address for _, address in _addresses(headers, "Cc")),
        reply_to=reply_to[0][1] if reply_to else None,
        subject=subject,
        text=text,
        html=sanitize_html("\n".join(body.html)) if body.html else None,
        text_display=text.strip() if _FORWARD_SUBJECT.match(subject) else trim_quoted(text),
        message_id=message_id or _synthetic_id(raw),
        message_id_synthetic=message_id is None,
        in_reply_to=_first_id(headers.first("In-Reply-To")),
        references=_all_ids(headers.first("References")),
        subject_ticket_id=ticket_id_from_subject(subject),
        date=_date(headers.first("Date")),
        is_auto=bool(auto),
        auto_reason=auto,
        is_own=bool(own_domain and message_id and message_id.rpartition("@")[2].lower() == own_domain.lower()),
        is_bounce=bounce is not None,
        bounce=bounce,
        attachments=body.attachments,
        skipped_attachments=body.skipped,
        raw_size=len(raw),
        defects=tuple(dict.fromkeys(_defects(message) + body.defects)),
    )


def _headers(message: EmailMessage) -> Headers:
    headers = Headers(message)
    if not headers:
        raise MalformedMessage("no header found: not an RFC 822 message")
    return headers


def _addresses(headers: Headers, name: str) -> tuple[tuple[str, str], ...]:
    """(display name, lower-cased address) pairs of every instance of a header. Split before decoding: a decoded
    display name may hold the comma that separates addresses."""
    values = tuple(unescape_surrogates(str(value)) for value in headers.raw(name))
    if not values:
        return ()
    if sum(map(len, values)) <= _REMEMBERED_ADDRESSES_LENGTH:
        return _remembered_address_pairs(values)
    return _address_pairs(values)


def _address_pairs(values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for display, address in getaddresses(values):
        address = address.strip().lower()
        if address and "@" in address:
            pairs.append((decode_header_value(display), address))
    return tuple(pairs)


# The same few values come again and again (the inbox's own address in To, a customer writing back): each short one
# is split once per process, the answer being immutable.
_REMEMBERED_ADDRESSES_LENGTH = 300
_remembered_address_pairs = functools.lru_cache(maxsize=2048)(_address_pairs)


def _sender(headers: Headers) -> tuple[str, str]:
    for name in ("From", "Sender", "Reply-To", "Return-Path"):
        pairs = _addresses(headers, name)
        if pairs:
            return pairs[0]
    raise MalformedMessage("no sender address (From, Sender, Reply-To and Return-Path are missing or empty)")


def _first_id(value: str) -> str | None:
    match = _ID.search(value)
    if match:
        return match.group(1)
    token = value.strip()
    return token if token and "@" in token and not any(ch.isspace() for ch in token) else None


def _all_ids(value: str) -> tuple[str, ...]:
    ids = _ID.findall(value) or [token for token in value.split() if "@" in token]
    return tuple(dict.fromkeys(ids))[:MAX_REFERENCES]


def _synthetic_id(raw: bytes) -> str:
    """A key for a message without Message-ID that is the same however it arrived (by IMAP or by the endpoint,
    with other trace headers and line endings): the hash of its identifying headers and its body."""
    head, _, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    digest = hashlib.sha256()
    for line in re.split(rb"\n(?![ \t])", head):
        name = line.split(b":", 1)[0].strip().lower()
        if name.decode("ascii", "replace") in _KEY_HEADERS:
            digest.update(b" ".join(line.split()) + b"\n")
    digest.update(b"\n" + body.rstrip(b"\n"))
    return f"{digest.hexdigest()}@{SYNTHETIC_DOMAIN}"


def _date(value: str) -> datetime.datetime | None:
    if not value:
        return None
    try:
        date = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if date.tzinfo is None:  # "-0000" or none: the time is UTC as far as anyone knows
        date = date.replace(tzinfo=datetime.UTC)
    return date


def _defects(message: EmailMessage) -> list[str]:
    names = []
    for part in message.walk():
        names += [type(defect).__name__ for defect in getattr(part, "defects", [])]
    return names
