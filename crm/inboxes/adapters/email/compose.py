"""An outbound reply as Django's ``EmailMultiAlternatives``: threaded so the customer's mail client shows it under
their message, and tagged with the interaction's ``[#id]`` so their answer finds its way back."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from email.utils import formataddr, make_msgid

from django.core.mail import EmailMultiAlternatives

from crm.inboxes.adapters.base import OutboundAttachment

MAX_REFERENCES = 20  # the thread's root and its latest ids: enough to thread, short enough for every server

_TOKEN = re.compile(r"\s*\[#(\d{1,18})\]")
# Reply and forward prefixes a client may have stacked, in the languages mail clients commonly write them.
_PREFIX = re.compile(r"^\s*(?:(?:re|aw|sv|vs|antw|ref|fw|fwd|wg|tr|rv)(?:\[\d+\])?\s*:\s*)+", re.IGNORECASE)


def ticket_id_from_subject(subject: str) -> int | None:
    """The interaction id of a ``[#<id>]`` token in a subject (the last one, as ours is appended), or None."""
    found = _TOKEN.findall(subject or "")
    return int(found[-1]) if found else None


def reply_subject(subject: str, interaction_id: int | None) -> str:
    """``Re: <subject> [#<id>]`` with no stacked "Re:"/"AW:"/"Fwd:" and exactly one token."""
    clean = " ".join(_TOKEN.sub("", subject or "").split())
    clean = _PREFIX.sub("", clean).strip()
    token = f" [#{interaction_id}]" if interaction_id is not None else ""
    return f"Re: {clean}{token}" if clean else f"Re:{token}" if token else "Re:"


def bracket(message_id: str) -> str:
    message_id = message_id.strip()
    return message_id if message_id.startswith("<") else f"<{message_id}>"


def unbracket(message_id: str) -> str:
    return message_id.strip().removeprefix("<").removesuffix(">")


def thread_headers(thread_ids: Sequence[str]) -> dict[str, str]:
    """In-Reply-To (the answered message, the last id) and References (the root and the latest ids, deduplicated,
    at most ``MAX_REFERENCES``: a thread of hundreds must not grow a header servers refuse)."""
    ids = [unbracket(value) for value in dict.fromkeys(thread_ids) if value and value.strip()]
    if not ids:
        return {}
    if len(ids) > MAX_REFERENCES:
        ids = [ids[0], *ids[-(MAX_REFERENCES - 1) :]]
    return {"In-Reply-To": bracket(ids[-1]), "References": " ".join(bracket(value) for value in ids)}


def compose_reply(
    *,
    from_address: str,
    to: Sequence[str],
    subject: str,
    body: str,
    message_id_domain: str,
    from_name: str = "",
    html: str | None = None,
    interaction_id: int | None = None,
    thread_ids: Sequence[str] = (),
    cc: Sequence[str] = (),
    attachments: Iterable[OutboundAttachment] = (),
    automatic: bool = False,
    message_id: str | None = None,
) -> EmailMultiAlternatives:
    """The reply to send from an inbox. Its ``Message-ID`` — ``message_id`` when given (see ``new_message_id``),
    else a new one on ``message_id_domain``, recognised when it comes back — is in ``extra_headers`` and returned
    by ``message_id_of``. ``automatic`` marks mail no person wrote (``Auto-Submitted: auto-replied``, and asks
    Exchange not to auto-answer it)."""
    headers = {"Message-ID": bracket(message_id) if message_id else make_msgid(domain=message_id_domain)}
    headers |= thread_headers(thread_ids)
    if automatic:
        headers |= {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}
    message = EmailMultiAlternatives(
        subject=reply_subject(subject, interaction_id),
        body=body,
        from_email=formataddr((" ".join(from_name.split()), from_address)) if from_name else from_address,
        to=list(to),
        cc=list(cc),
        headers=headers,
    )
    if html:
        message.attach_alternative(html, "text/html")
    for attachment in attachments:
        message.attach(attachment.filename, attachment.data, attachment.content_type or None)
    return message


def new_message_id(domain: str) -> str:
    """A fresh Message-ID (no angle brackets) to store on a delivery before its first attempt: a retry after a crash
    then resends the same message, which the customer's mail service shows once."""
    return unbracket(make_msgid(domain=domain))


def message_id_of(message: EmailMultiAlternatives) -> str:
    """Our Message-ID of a composed message, without angle brackets (as ``ParsedInbound`` holds ids)."""
    return unbracket(message.extra_headers["Message-ID"])
