"""The MIME tree of one mail walked into its text, its HTML and its attachments.

Every part ends somewhere: in the text, the HTML, the attachments, or the skipped list (over a size limit, with
its name and size). A part the standard library cannot describe is kept as an opaque attachment, not dropped.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass, field
from email.message import EmailMessage

from crm.inboxes.adapters.base import InboundAttachment, SkippedAttachment
from crm.inboxes.adapters.email.decoding import decode_bytes, decode_header_value, header, unescape_surrogates
from crm.inboxes.adapters.email.html import html_to_text

MAX_DEPTH = 60  # real mail nests a handful of levels; deeper parts are kept as opaque attachments
_UNSAFE_FILENAME = re.compile(r"[\x00-\x1f\x7f/\\]")
_REPORT_PARTS = {"message/delivery-status", "text/rfc822-headers", "message/disposition-notification"}


@dataclass
class Limits:
    max_attachment_bytes: int
    max_total_bytes: int


@dataclass
class Body:
    """What the walk found. ``plain``/``html`` are the inline text chunks in order; ``forwarded`` the text of
    attached messages (a mail forwarded as an attachment), shown after the message's own text."""

    limits: Limits
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    forwarded: list[str] = field(default_factory=list)
    attachments: list[InboundAttachment] = field(default_factory=list)
    skipped: list[SkippedAttachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    kept_bytes: int = 0
    in_report: bool = False  # inside a delivery report: the returned original is evidence, not content

    def text(self) -> str:
        own = "\n\n".join(chunk for chunk in self.plain if chunk.strip())
        if not own.strip() and self.html:
            own = html_to_text("\n".join(self.html))
        return "\n\n".join(chunk for chunk in [own.strip("\n"), *self.forwarded] if chunk.strip())


def walk(message: EmailMessage, limits: Limits) -> Body:
    body = Body(limits=limits, in_report=message.get_content_type() == "multipart/report")
    _collect(message, body, depth=0)
    return body


def _collect(part: EmailMessage, body: Body, *, depth: int) -> None:
    try:
        ctype = part.get_content_type()
        if depth > MAX_DEPTH:
            body.defects.append(f"MIME parts nested deeper than {MAX_DEPTH} levels kept as attachments")
            _attach(part, body, ctype="application/octet-stream")
        elif ctype in ("message/rfc822", "message/global"):  # before multipart: is_multipart() is true for these
            _collect_attached_message(part, body, depth=depth)
        elif part.is_multipart() and ctype == "multipart/alternative":
            _collect_alternative(part, body, depth=depth)
        elif part.is_multipart():
            for child in part.iter_parts():
                _collect(child, body, depth=depth + 1)
        elif ctype in _REPORT_PARTS:
            return  # read by the bounce parser
        elif ctype in ("text/plain", "text/html") and _is_inline_text(part):
            text = _text_of(part)
            if ctype == "text/html":
                body.html.append(text)
            else:
                body.plain.append(_unflow(text) if _param(part, "format") == "flowed" else text)
        else:
            _attach(part, body, ctype=ctype)
    except RecursionError:
        raise
    except Exception as exc:  # a part the library cannot describe: keep its bytes rather than lose them
        body.defects.append(f"unreadable part kept as an attachment ({type(exc).__name__})")
        _attach(part, body, ctype="application/octet-stream", opaque=True)


def _collect_alternative(part: EmailMessage, body: Body, *, depth: int) -> None:
    """Alternatives say the same thing: keep the last (richest) plain and HTML version, and every attachment that
    a multipart/related alternative carries (inline images)."""
    best_plain: list[str] | None = None
    best_html: list[str] | None = None
    for child in part.iter_parts():
        inner = Body(limits=body.limits, kept_bytes=body.kept_bytes, in_report=body.in_report)
        _collect(child, inner, depth=depth + 1)
        best_plain = inner.plain if inner.plain else best_plain
        best_html = inner.html if inner.html else best_html
        body.attachments += inner.attachments
        body.skipped += inner.skipped
        body.forwarded += inner.forwarded
        body.defects += inner.defects
        body.kept_bytes = inner.kept_bytes
    body.plain += best_plain or []
    body.html += best_html or []


def _collect_attached_message(part: EmailMessage, body: Body, *, depth: int) -> None:
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else payload
    if not isinstance(inner, EmailMessage):
        _attach(part, body, ctype="message/rfc822")
        return
    if body.in_report:
        return  # the returned copy of our own message: the bounce parser reads its Message-ID
    forwarded = Body(limits=body.limits, kept_bytes=body.kept_bytes)
    _collect(inner, forwarded, depth=depth + 1)
    head = [f"{name}: {value}" for name in ("From", "Date", "Subject", "To") if (value := header(inner, name))]
    body.forwarded.append("\n".join(["---------- Forwarded message ----------", *head, "", forwarded.text()]))
    body.attachments += forwarded.attachments
    body.skipped += forwarded.skipped
    body.defects += forwarded.defects
    body.kept_bytes = forwarded.kept_bytes


def _attach(part: EmailMessage, body: Body, *, ctype: str, opaque: bool = False) -> None:
    data = _payload_bytes(part, opaque=opaque)
    filename = _filename(part, ctype, index=len(body.attachments) + len(body.skipped) + 1, opaque=opaque)
    size = len(data)
    limits = body.limits
    if size > limits.max_attachment_bytes:
        reason = f"larger than the limit of {limits.max_attachment_bytes} bytes per attachment"
        body.skipped.append(SkippedAttachment(filename=filename, content_type=ctype, size=size, reason=reason))
        return
    if body.kept_bytes + size > limits.max_total_bytes:
        reason = f"the message's attachments passed the limit of {limits.max_total_bytes} bytes in all"
        body.skipped.append(SkippedAttachment(filename=filename, content_type=ctype, size=size, reason=reason))
        return
    content_id = None if opaque else _content_id(part)
    disposition = None if opaque else part.get_content_disposition()
    body.kept_bytes += size
    body.attachments.append(
        InboundAttachment(
            filename=filename,
            content_type=ctype,
            data=data,
            size=size,
            inline=disposition == "inline" or (disposition is None and content_id is not None),
            content_id=content_id,
        )
    )


def _payload_bytes(part: EmailMessage, *, opaque: bool) -> bytes:
    if not opaque and part.get_content_maintype() == "message":
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else payload
        if isinstance(inner, EmailMessage):
            try:
                return inner.as_bytes()
            except Exception:  # a damaged inner message: its text as the parser holds it
                return str(inner).encode("utf-8", "surrogateescape")
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    try:  # a multipart kept whole (too deep, or unreadable): its serialised form
        return part.as_bytes()
    except Exception:
        return str(part).encode("utf-8", "surrogateescape")


def _is_inline_text(part: EmailMessage) -> bool:
    return part.get_content_disposition() != "attachment" and not part.get_filename()


def _text_of(part: EmailMessage) -> str:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        payload = part.get_payload()
        data = payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""
    return decode_bytes(data, part.get_content_charset()).replace("\r\n", "\n").replace("\r", "\n")


def _unflow(text: str) -> str:
    """RFC 3676 format=flowed: a line ending in a space continues on the next one."""
    out: list[str] = []
    for line in text.split("\n"):
        if out and out[-1].endswith(" ") and out[-1] != "-- ":
            out[-1] += line
        else:
            out.append(line)
    return "\n".join(out)


def _param(part: EmailMessage, name: str) -> str:
    return str(part.get_param(name) or "").lower()


def _filename(part: EmailMessage, ctype: str, *, index: int, opaque: bool) -> str:
    name = ""
    if not opaque:
        try:
            name = part.get_filename() or str(part.get_param("name") or "")
        except Exception:
            name = ""
        if "=?" in name:  # RFC 2047 inside a parameter: not the standard, but what many clients send
            name = decode_header_value(name)
        name = unescape_surrogates(name)
    name = _UNSAFE_FILENAME.sub("_", name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip().strip(".")
    if not name and ctype in ("message/rfc822", "message/global"):
        payload = part.get_payload()
        subject = header(payload[0], "Subject") if isinstance(payload, list) and payload else ""
        name = f"{_UNSAFE_FILENAME.sub('_', subject)[:100] or 'message'}.eml"
    if not name:
        name = f"attachment-{index}{mimetypes.guess_extension(ctype) or '.bin'}"
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = f"{stem[:190]}.{ext[:9]}" if dot and len(ext) < 10 else name[:200]
    return name


def _content_id(part: EmailMessage) -> str | None:
    value = header(part, "Content-ID").strip().strip("<>").strip()
    return value or None
