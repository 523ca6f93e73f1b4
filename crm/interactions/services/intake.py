"""New interactions: find the customer, pick the queue, start the clocks, queue it (``interaction_create_inbound``)."""

from collections.abc import Iterable, Mapping
from contextlib import nullcontext
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from config import savepoints
from config.audit import audit_batched
from config.choices import Channel
from config.errors import DomainError
from config.rows import row_save_new, rows_insert
from contacts.models import Customer
from contacts.services import customer_find_or_create_by_identity
from crm.choices import Direction, InteractionEventKind, InteractionStatus, MessageDirection, Priority

from ..hooks import Move, first_queue_for_channel, run_events_logged, run_interaction_saving
from ..models import Interaction
from .eventlog import announce_batch, new_event
from .messages import message_check_body, message_create, message_insert

S = InteractionStatus
Kind = InteractionEventKind
MAX_TAGS, MAX_TAG_LENGTH = 50, 50


def clean_tags(tags: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    for tag in tags:
        tag = str(tag).strip()
        if tag and tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise ValidationError({"tags": _("At most %(MAX_TAGS)s tags.") % {"MAX_TAGS": MAX_TAGS}})
    if any(len(tag) > MAX_TAG_LENGTH for tag in cleaned):
        raise ValidationError(
            {"tags": _("A tag has at most %(MAX_TAG_LENGTH)s characters.") % {"MAX_TAG_LENGTH": MAX_TAG_LENGTH}}
        )
    return cleaned


def check_priority(priority: int) -> None:
    if priority not in Priority.values:
        raise ValidationError(
            {"priority": _("Priority must be one of %(join)s.") % {"join": ", ".join(map(str, Priority.values))}}
        )


def pick_queue(*, channel: str, queue: Model | None) -> Model | None:
    """``queue`` checked against the channel, or where new work on it goes (the ``queue_for_channel`` hook)."""
    if queue is None:
        return first_queue_for_channel(channel=channel)
    if not queue.is_active:
        raise ValidationError({"queue": _("Queue '%(queue)s' is not active.") % {"queue": queue}})
    if channel not in queue.channels:
        raise ValidationError(
            {
                "queue": _("Queue '%(queue)s' does not serve the %(channel)s channel.")
                % {"queue": queue, "channel": channel}
            }
        )
    return queue


@cache
def _follow_up_sql() -> str:
    table = Interaction._meta.db_table
    # the ORM's query, written once: it ran on every create of a known customer and its building cost more than it
    return (
        f'SELECT "id" FROM "{table}" WHERE "customer_id" = %s AND "status" IN (%s, %s) '  # noqa: S608  (model names)
        'AND "resolved_at" >= %s AND "resolved_at" <= %s ORDER BY "resolved_at" DESC, "id" DESC LIMIT 1'
    )


def _follow_up_target(*, customer: Customer, now: datetime) -> int | None:
    """The id of the customer's latest interaction resolved within the follow-up window, if any (a repeat contact)."""
    since = now - timedelta(days=settings.SWITCHBOARD_FOLLOW_UP_DAYS)
    with connection.cursor() as cursor:
        cursor.execute(_follow_up_sql(), [customer.pk, S.RESOLVED, S.CLOSED, since, now])
        row = cursor.fetchone()
    return row[0] if row else None


def _violated_constraint(exc: IntegrityError) -> str | None:
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


def interaction_create_inbound(
    *,
    channel: str,
    customer: Customer | None = None,
    customer_identity: Mapping[str, str] | None = None,
    queue: Model | None = None,
    subject: str = "",
    body: str = "",
    priority: int = Priority.NORMAL,
    external_id: str = "",
    tags: Iterable[str] = (),
    category: str = "",
    actor=None,
    direction: str = Direction.INBOUND,
    inbox=None,
    message_external_id: str = "",
    attachments: Iterable[Mapping[str, Any]] = (),
    follow_up_of: Interaction | None = None,
    enqueue: bool = True,
    marketing: bool = False,
) -> Interaction:
    """Record a new contact: find the customer, pick the queue, compute due times, queue it.

    ``enqueue=False`` leaves it ``new`` outside any queue (a call still in its IVR menu): ``interaction_enqueue``
    queues it later, and its clocks start then.

    The customer is ``customer`` or found (or created) by ``customer_identity`` (``{"address",
    "channel"?, "name"?}``; the channel defaults to the interaction's). The queue is ``queue`` (it
    must serve the channel), else the one crm.routing picks for the channel (``queue_for_channel``), else none
    and the interaction stays ``new``. ``body``, when given, is the first message. A repeat contact
    within ``SWITCHBOARD_FOLLOW_UP_DAYS`` of a resolution links ``follow_up_of``. An ``external_id``
    already used on the channel is a field error (the unique index decides, so concurrent duplicates
    cannot both pass). ``inbox`` is where the customer wrote to (a channel adapter's import);
    ``message_external_id`` (the provider's message id) and ``attachments`` go on the first message.
    ``follow_up_of`` names the earlier interaction this one continues when the caller knows it (a reply to an
    e-mail thread that can no longer be reopened); otherwise it is found by the follow-up window.
    ``marketing=True`` marks a proactive outbound contact that promotes rather than serves (a campaign, an offer): it
    is refused (``DomainError``, 409) unless the customer gave marketing consent. Replies, transcripts the customer
    asked for and service notices are not marketing and need no such consent.
    """
    if channel not in Channel.values:
        raise ValidationError({"channel": _("Unknown channel '%(channel)s'.") % {"channel": channel}})
    if direction not in Direction.values:
        raise ValidationError({"direction": _("Unknown direction '%(direction)s'.") % {"direction": direction}})
    if marketing and direction != Direction.OUTBOUND:
        raise ValidationError({"direction": _("Only an outbound contact can be a marketing one.")})
    check_priority(priority)
    if (customer is None) == (customer_identity is None):
        raise ValidationError({"customer": _("Give exactly one of customer and customer_identity.")})
    tags = clean_tags(tags)
    # checked before anything is written, so an over-long body creates no customer either
    message_check_body(body=body, required=False)

    # the audit entries of what it writes (the interaction, its first message) go in one INSERT at the end
    with savepoints.unit(), audit_batched():  # no savepoint of its own inside a caller's whole step
        new_customer = False
        if customer is None:
            try:
                customer, new_customer = customer_find_or_create_by_identity(
                    channel=customer_identity.get("channel") or channel,
                    address=customer_identity.get("address", ""),
                    name=customer_identity.get("name", ""),
                )
            except ValidationError as exc:
                raise ValidationError({"customer_identity": exc.messages}) from None
        if marketing and not customer.marketing_consent:
            raise DomainError(
                f"Customer {customer.pk} has not consented to marketing: no marketing contact may be sent.",
                code="no_marketing_consent",
            )
        queue = pick_queue(channel=channel, queue=queue) if enqueue else None
        now = timezone.now()
        link: dict[str, Any] = {"follow_up_of": follow_up_of}
        if follow_up_of is None and not new_customer:  # a customer created just now has no earlier interaction
            link = {"follow_up_of_id": _follow_up_target(customer=customer, now=now)}
        interaction = Interaction(
            customer=customer,
            channel=channel,
            direction=direction,
            queue=queue,
            subject=subject,
            status=S.QUEUED if queue else S.NEW,
            priority=priority,
            external_id=external_id,
            inbox_id=getattr(inbox, "pk", inbox),
            tags=tags,
            category=category,
            **link,
            created_at=now,
            queued_at=now if queue else None,
        )
        interaction.sla_started_at = now if queue else None
        # the concerns set what follows from the new interaction (its SLA due times) before the INSERT
        run_interaction_saving(
            interaction=interaction,
            move=Move(kind=Kind.CREATED, from_status="", to_status=interaction.status, changed=frozenset(), now=now),
        )
        try:
            # the savepoint lets a duplicate external_id become a field error; without one nothing can clash
            with transaction.atomic() if external_id else nullcontext():
                row_save_new(interaction)
        except IntegrityError as exc:
            if _violated_constraint(exc) == "interaction_external_id_unique":
                raise ValidationError(
                    {
                        "external_id": _(
                            "An interaction with external id '%(external_id)s' already exists on %(channel)s."
                        )
                        % {"external_id": external_id, "channel": channel}
                    }
                ) from None
            raise

        events = [
            new_event(interaction=interaction, kind=Kind.CREATED, from_status="", to_status=S.NEW, actor=actor, at=now)
        ]
        if queue is not None:
            events.append(
                new_event(
                    interaction=interaction,
                    kind=Kind.QUEUED,
                    from_status=S.NEW,
                    to_status=S.QUEUED,
                    actor=actor,
                    at=now,
                    data={"queue_id": queue.pk},
                )
            )
        # one INSERT for both; ids (and so the log's order) follow the list's order. Announced as one batch: the
        # receivers read the new interaction once for both changes, not once per change.
        events = rows_insert(events)
        run_events_logged(events=events)
        announce_batch(events)
        if body.strip() and direction == Direction.INBOUND:
            # the customer's first words: the row was inserted just above, so no lock and no first-response stamp
            message_insert(
                interaction=interaction,
                direction=MessageDirection.INBOUND,
                body=body,
                at=now,
                external_id=message_external_id,
                attachments=attachments,
            )
        elif body.strip():
            message_create(interaction=interaction, direction=MessageDirection.OUTBOUND, body=body, author=actor)
    return interaction
