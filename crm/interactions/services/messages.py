"""Adding messages to an interaction: from the customer, to the customer, or internal notes."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config import savepoints
from config.audit import audit_batched, audit_known_before, audit_row_read
from config.errors import DomainError
from config.raw_rows import LockedRow
from config.rows import row_save_fields, row_save_new
from crm.choices import OPEN_STATUSES, InteractionEventKind, InteractionStatus, MessageDirection

from ..hooks import MESSAGE, Move, run_interaction_saving, run_message_saved, run_message_saving
from ..models import SLA_FIELDS, Interaction, Message
from ..signals import message_created
from .eventlog import log_event

# No conversation continues on these; a new contact is a new interaction.
CLOSED_TO_MESSAGES = frozenset({InteractionStatus.CLOSED, InteractionStatus.ABANDONED})

# The interaction under its row lock with what a message needs of it, from statements built once (config.raw_rows)
_LOCK = LockedRow(Interaction, related=("queue", "agent"))
_LOCK_WITH_INBOX = LockedRow(Interaction, related=("queue", "agent", "inbox"))


def message_check_body(*, body: str, required: bool = True) -> None:
    """Raise a ``body`` field error when the body is missing (if required) or longer than the configured maximum."""
    limit = settings.SWITCHBOARD_MAX_MESSAGE_LENGTH
    if required and not (body or "").strip():
        raise ValidationError({"body": _("A message needs a body.")})
    if len(body or "") > limit:
        raise ValidationError(
            {
                "body": _("A message has at most %(limit)s characters (this one has %(len)s).")
                % {"limit": limit, "len": len(body)}
            }
        )


def message_create(
    *,
    interaction: Interaction,
    direction: str,
    body: str,
    author=None,
    attachments: Iterable[Mapping[str, Any]] = (),
    external_id: str = "",
    inbox=None,
) -> Message:
    """Add a message. The first outbound message stamps the interaction's ``first_response_at``.

    Refused with a ``DomainError`` on closed or abandoned interactions; internal notes need a user
    ``author`` (an integrator's key writes none).
    """
    if direction not in MessageDirection.values:
        raise ValidationError({"direction": _("Unknown direction '%(direction)s'.") % {"direction": direction}})
    message_check_body(body=body)
    if direction == MessageDirection.INTERNAL and author is None:
        raise ValidationError({"direction": _("Internal notes need a signed-in author; an API key cannot write them.")})
    attachments = [dict(item) for item in attachments]

    # a reply without a named inbox leaves through the interaction's: joined here, so it is not read again; so is the
    # agent, whose team the audit entry of a moved reply clock names
    lock = _LOCK_WITH_INBOX if inbox is None and direction != MessageDirection.INTERNAL else _LOCK
    # no savepoint of its own inside a caller's whole step (config.savepoints); the message's and the interaction's
    # audit entries in one statement
    with savepoints.unit(), audit_batched():
        # the row lock orders concurrent first replies: exactly one stamps first_response_at
        locked = lock.get(interaction.pk)
        read = audit_row_read(locked)  # as locked: the audit trail need not read it again before the save below
        if locked.status in CLOSED_TO_MESSAGES:
            raise DomainError(
                _("Interaction %(pk)s is %(status)s; no messages can be added to it.")
                % {"pk": locked.pk, "status": locked.status},
                code="interaction_closed",
            )
        now = timezone.now()
        message = message_insert(
            interaction=locked,
            direction=direction,
            body=body,
            author=author,
            attachments=attachments,
            external_id=external_id,
            inbox=inbox,
            at=now,
        )
        clock_fields = _move_reply_clocks(interaction=locked, direction=direction, now=now)
        if clock_fields:
            # a reply clock started or stopped: the concerns recompute what follows (the SLA due times)
            move = Move(
                kind=MESSAGE,
                from_status=locked.status,
                to_status=locked.status,
                changed=frozenset(clock_fields),
                now=now,
            )
            with audit_known_before(locked, read):
                row_save_fields(
                    locked, [*clock_fields, *run_interaction_saving(interaction=locked, move=move), "updated_at"]
                )
            for name in ("first_response_at", "next_response_from", *SLA_FIELDS):
                setattr(interaction, name, getattr(locked, name))
        if "first_response_at" in clock_fields:
            log_event(
                interaction=locked,
                kind=InteractionEventKind.FIRST_RESPONSE,
                from_status=locked.status,
                to_status=locked.status,
                actor=author,
                agent_id=locked.agent_id,
                at=now,
                data={"message_id": message.pk},
            )
    return message


def _move_reply_clocks(*, interaction: Interaction, direction: str, now) -> list[str]:
    """Start or stop the reply clocks for a new message; returns the fields changed.

    An outbound message answers: the first one stamps ``first_response_at``, any one stops the
    next-response clock. A customer's message after an answer starts the next-response clock (the
    first unanswered one counts; more messages before the answer do not restart it).
    """
    changed = []
    if direction == MessageDirection.OUTBOUND:
        if interaction.first_response_at is None:
            interaction.first_response_at = now
            changed.append("first_response_at")
        if interaction.next_response_from is not None:
            interaction.next_response_from = None
            changed.append("next_response_from")
    elif (
        direction == MessageDirection.INBOUND
        and interaction.first_response_at is not None
        and interaction.next_response_from is None
        and interaction.status in OPEN_STATUSES
    ):
        interaction.next_response_from = now
        changed.append("next_response_from")
    return changed


def message_insert(
    *,
    interaction: Interaction,
    direction: str,
    body: str,
    at,
    author=None,
    attachments: Iterable[Mapping[str, Any]] = (),
    external_id: str = "",
    inbox=None,
) -> Message:
    """Write a message, run the ``message_saved`` hook in its transaction and announce it on commit. Callers hold
    the interaction (locked, or just created) and have checked the body; use ``message_create`` everywhere else.

    ``inbox`` (a ``crm.inboxes`` Inbox) is where the message came in or leaves through; a reply or an inbound
    message without one takes the interaction's. Internal notes have none: they never leave."""
    if inbox is None and direction != MessageDirection.INTERNAL:
        # the interaction's inbox row when its reader joined it (``message_create``'s lock): the handlers that send
        # the reply through it do not read it again
        cached = Interaction._meta.get_field("inbox").is_cached(interaction)
        inbox = interaction.inbox if cached else interaction.inbox_id
    message = Message(
        interaction=interaction,
        direction=direction,
        author=author,
        body=body,
        attachments=[dict(item) for item in attachments],
        external_id=external_id,
        inbox_id=getattr(inbox, "pk", inbox),
        created_at=at,
    )
    if inbox is not None and not isinstance(inbox, int):
        message.inbox = inbox
    run_message_saving(message=message)
    row_save_new(message)
    run_message_saved(message=message)
    message_id, interaction_id, agent_id = message.pk, interaction.pk, interaction.agent_id
    transaction.on_commit(
        lambda: message_created.send(
            sender=Message,
            message_id=message_id,
            interaction_id=interaction_id,
            direction=direction,
            agent_id=agent_id,
        )
    )
    return message
