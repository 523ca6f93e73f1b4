"""Adding messages to an interaction: from the customer, to the customer, or internal notes."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from config.errors import DomainError

from ..choices import InteractionEventKind, InteractionStatus, MessageDirection
from ..models import Interaction, Message
from ..signals import message_created
from .lifecycle import log_event

# No conversation continues on these; a new contact is a new interaction.
CLOSED_TO_MESSAGES = frozenset({InteractionStatus.CLOSED, InteractionStatus.ABANDONED})


def message_check_body(*, body: str, required: bool = True) -> None:
    """Raise a ``body`` field error when the body is missing (if required) or longer than the configured maximum."""
    limit = settings.SWITCHBOARD_MAX_MESSAGE_LENGTH
    if required and not (body or "").strip():
        raise ValidationError({"body": "A message needs a body."})
    if len(body or "") > limit:
        raise ValidationError({"body": f"A message has at most {limit} characters (this one has {len(body)})."})


def message_create(
    *,
    interaction: Interaction,
    direction: str,
    body: str,
    author=None,
    attachments: Iterable[Mapping[str, Any]] = (),
    external_id: str = "",
) -> Message:
    """Add a message. The first outbound message stamps the interaction's ``first_response_at``.

    Refused with a ``DomainError`` on closed or abandoned interactions; internal notes need a user
    ``author`` (an integrator's key writes none).
    """
    if direction not in MessageDirection.values:
        raise ValidationError({"direction": f"Unknown direction '{direction}'."})
    message_check_body(body=body)
    if direction == MessageDirection.INTERNAL and author is None:
        raise ValidationError({"direction": "Internal notes need a signed-in author; an API key cannot write them."})
    attachments = [dict(item) for item in attachments]

    with transaction.atomic():
        # the row lock orders concurrent first replies: exactly one stamps first_response_at
        locked = Interaction.objects.select_for_update().get(pk=interaction.pk)
        if locked.status in CLOSED_TO_MESSAGES:
            raise DomainError(
                f"Interaction {locked.pk} is {locked.status}; no messages can be added to it.",
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
            at=now,
        )
        if direction == MessageDirection.OUTBOUND and locked.first_response_at is None:
            locked.first_response_at = now
            locked.save(update_fields=["first_response_at", "updated_at"])
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
            interaction.first_response_at = now
    return message


def message_insert(
    *,
    interaction: Interaction,
    direction: str,
    body: str,
    at,
    author=None,
    attachments: Iterable[Mapping[str, Any]] = (),
    external_id: str = "",
) -> Message:
    """Write a message and announce it on commit. Callers hold the interaction (locked, or just created)
    and have checked the body; use ``message_create`` everywhere else."""
    message = Message.objects.create(
        interaction=interaction,
        direction=direction,
        author=author,
        body=body,
        attachments=[dict(item) for item in attachments],
        external_id=external_id,
        created_at=at,
    )
    message_id, interaction_id = message.pk, interaction.pk
    transaction.on_commit(
        lambda: message_created.send(
            sender=Message, message_id=message_id, interaction_id=interaction_id, direction=direction
        )
    )
    return message
