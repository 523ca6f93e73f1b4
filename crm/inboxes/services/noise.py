"""Mail recorded but never answered: auto-replies, bounces, our own mail come back, mail from the inbox itself.

Noise opens no work, reopens nothing, moves no SLA clock and triggers no automatic answer (answering it is how two
robots mail each other forever). When it belongs to a thread — a bounce by the Message-ID of the message that
bounced (its attached copy), an auto-reply by its headers or a participant's subject token — it is kept there as
an internal note for the agents (an internal message is never delivered and starts no clock; it has no author:
the system wrote it). A permanent bounce for a bad address (5.1.1 no such mailbox, 5.1.2 no such domain, 5.1.10
domain takes no mail) of a message we really sent on this inbox marks that address undeliverable
(``contacts.services.identity_mark_undeliverable``); a forged bounce naming no message of ours marks nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils import timezone

from contacts.services import identity_mark_undeliverable
from crm.choices import MessageDirection
from crm.interactions.models import Interaction, Message
from crm.interactions.services import CLOSED_TO_MESSAGES, message_insert

from ..adapters.base import ParsedInbound
from ..models import Inbox
from ..threads import provider_id, thread_locked

UNDELIVERABLE_STATUSES = frozenset({"5.1.1", "5.1.2", "5.1.10"})


def noise_reason(*, inbox: Inbox, parsed: ParsedInbound) -> str:
    """Why this mail is recorded but not answered ("" for a person's mail)."""
    if parsed.is_bounce and parsed.bounce is not None:
        bounce = parsed.bounce
        what = "Delivery failed" if bounce.permanent else "Delivery delayed"
        details = ", ".join(part for part in (bounce.status, bounce.diagnostic) if part)
        return f"{what} for {bounce.recipient or 'a recipient'}" + (f" ({details})" if details else "") + "."
    if parsed.is_bounce:
        return "Delivery failure report."
    if parsed.is_own:
        return "Our own mail came back (its Message-ID is ours)."
    if parsed.sender == str((inbox.settings or {}).get("address") or "").lower():
        return "Sent from this inbox's own address (a mail loop)."
    if parsed.is_auto:
        return f"Automatic reply from {parsed.sender} ({parsed.auto_reason})."
    return ""


def noise_record(
    *, inbox: Inbox, parsed: ParsedInbound, body: str, attachments: Sequence[dict]
) -> tuple[Interaction | None, Message | None]:
    """Keep noise beside its thread, as an internal note: it moves no clock, opens nothing and is never sent."""
    bounce = parsed.bounce
    ids = [bounce.original_message_id if bounce else None, *parsed.thread_ids]
    if parsed.is_own:
        ids.append(parsed.message_id)
    # a machine's subject token proves nothing: a bounce and our own mail thread by Message-ID only
    ticket = None if parsed.is_bounce or parsed.is_own else parsed.subject_ticket_id
    interaction = thread_locked(inbox=inbox, ids=ids, ticket_id=ticket, sender=parsed.sender)
    if interaction is None:
        return None, None
    if bounce is not None and bounce.permanent and bounce.status in UNDELIVERABLE_STATUSES and bounce.recipient:
        # only for a message we really sent on this inbox (the thread was found by its Message-ID)
        identity_mark_undeliverable(
            channel="email", address=bounce.recipient, reason=f"{bounce.status} {bounce.diagnostic}".strip()
        )
    if parsed.is_own or interaction.status in CLOSED_TO_MESSAGES:
        return interaction, None
    message = message_insert(
        interaction=interaction,
        direction=MessageDirection.INTERNAL,
        body=body,
        at=timezone.now(),
        attachments=attachments,
        external_id=provider_id(parsed.message_id),
    )
    return interaction, message
