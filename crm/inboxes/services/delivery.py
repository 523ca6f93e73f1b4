"""The delivery outbox: every outbound message of an inbox reaches the customer, at most once more after a crash.

``delivery_enqueue`` (the ``message_saved`` hook) writes a ``Delivery`` in the message's transaction (the message is
inserted ``pending`` already: ``delivery_mark_pending``, the ``message_saving`` hook); it is published on commit to
``delivery_send_task``, and ``delivery_publish_due`` (beat, every few seconds) publishes what that publish lost and
what is due for a retry (``crm.webhooks.outbox``'s lease). An adapter whose ``send`` is a local publish
(``sends_in_request``, the chat widget) is sent at once after commit in the same process instead: its row is written
already claimed (step 1 below, in the message's transaction: nobody else can see the row before that commit), so
steps 2 and 3 follow the commit directly, and a success is recorded in one statement (``delivery_sent``).

``delivery_send`` never holds a row lock or a transaction while it talks to the provider:

1. *claim* (a short transaction, ``SKIP LOCKED``): a pending, due row gets ``attempts + 1`` and
   ``next_attempt_at = now + DELIVERY_SEND_LEASE_SECONDS``, committed. To every other worker, the sweep and a
   redelivered task message the row is now simply not due: nobody sends it while the attempt is in flight;
2. *send* through the inbox's adapter, outside any transaction;
3. *record* (a second transaction, the row locked): sent (with the provider's id, which for e-mail is our
   Message-ID and becomes ``message.external_id`` so the customer's answer threads), a retry with backoff on a
   temporary failure, or failed; ``message.delivery_status`` mirrors it, and a failure writes the
   ``message.delivery_failed`` webhook.

A worker killed between 1 and 3 leaves the row pending and due once the lease runs out: the sweep sends it once
more and that attempt records the only outcome (the killed one counted as an attempt, so a message that kills its
worker every time ends ``failed`` after ``DELIVERY_MAX_ATTEMPTS``).

Refused credentials are not the message's fault: the inbox moves to "re-authorisation required"
(``crm.inboxes.services.credentials``), the attempt is not counted, and the delivery waits, pending, with the reason
shown beside the reply. Nothing of a waiting inbox is claimed or published; marking it re-authorised sends them.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connections, router, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import DomainError
from config.rows import row_save_new
from config.tasks import task_named
from crm.choices import DeliveryStatus, MessageDirection
from crm.interactions.models import Message
from crm.webhooks.hooks import message_webhook_data
from crm.webhooks.outbox import PUBLISH_LEASE_SECONDS, SWEEP_BATCH, outbox_lease_due
from crm.webhooks.services import webhook_emit

from ..adapters import (
    AuthenticationFailed,
    DeliveryError,
    InvalidSettings,
    OutboundMessage,
    PermanentFailure,
    SendResult,
    TemporaryFailure,
    adapter_for,
)
from ..adapters.email.oauth import oauth_configured
from ..models import Delivery, Inbox, InboxState
from ..signals import delivery_changed
from .credentials import inbox_adapter, inbox_forget_access_token, inbox_require_reauthorisation
from .delivery_sent import sent_sql
from .outbound import outbound_message_for

logger = logging.getLogger(__name__)

D = DeliveryStatus
DELIVERY_SEND_TASK = "crm.tasks.delivery_send_task"


# --- the outbox -----------------------------------------------------------------------------------------------------


def _has_delivery(message: Message) -> bool:
    return message.direction == MessageDirection.OUTBOUND and message.inbox_id is not None


def delivery_mark_pending(*, message: Message) -> None:
    """Before the INSERT of a message that will have a delivery: it is written ``pending`` (the ``message_saving``
    hook), so ``delivery_enqueue`` does not update it right after."""
    if _has_delivery(message):
        message.delivery_status = D.PENDING


def delivery_enqueue(*, message: Message) -> Delivery | None:
    """The delivery of a new outbound message that has an inbox, in the message's transaction (published on commit).
    Customers' messages, internal notes and work without an inbox (entered through the API) have none."""
    if not _has_delivery(message):
        return None
    now = timezone.now()
    inbox = _sending_in_request(message)
    if inbox is not None:
        # claimed in the message's transaction (what ``_claim`` would do right after the commit, without its own
        # transaction); a process that dies before recording leaves it pending, due when this short lease ends
        attempts, due, leased = 1, now + timedelta(seconds=PUBLISH_LEASE_SECONDS), None
    else:
        attempts, due, leased = 0, now, now + timedelta(seconds=PUBLISH_LEASE_SECONDS)  # the on-commit publish's
    # the INSERT from a layout built once (config.rows), not compiled for every reply
    delivery = row_save_new(
        Delivery(
            message=message,
            inbox_id=message.inbox_id,
            status=D.PENDING,
            attempts=attempts,
            next_attempt_at=due,
            leased_until=leased,
            created_at=now,
        )
    )
    if message.delivery_status != D.PENDING:  # written pending already, unless inserted without the hook
        Message.objects.filter(pk=message.pk).update(delivery_status=D.PENDING)
        message.delivery_status = D.PENDING
    if inbox is not None:
        delivery.inbox = inbox
        # the reply's writer held the interaction locked: its agent is the one to tell how the delivery went
        interaction = message.interaction if Message._meta.get_field("interaction").is_cached(message) else None
        agent = {"agent_id": interaction.agent_id} if interaction is not None else {}
        claim = _Claim(delivery=delivery, attempt=1)
        transaction.on_commit(lambda: _send_now(claim, **agent))
    else:
        delivery_id = delivery.pk
        transaction.on_commit(lambda: _publish([delivery_id]))
    return delivery


def _sending_in_request(message: Message) -> Inbox | None:
    """The message's inbox when its adapter sends by a local publish (the chat widget's socket) rather than to a
    provider, and it may send now; None otherwise (the worker sends it)."""
    if Message._meta.get_field("inbox").is_cached(message) and message.inbox is not None:
        inbox = message.inbox
    else:
        inbox = Inbox.objects.filter(pk=message.inbox_id).first()
    try:
        in_request = inbox is not None and getattr(adapter_for(inbox.adapter), "sends_in_request", False)
    except LookupError:
        return None
    return inbox if in_request and inbox.state == InboxState.ACTIVE else None


def _send_now(claim: _Claim, **agent) -> None:
    """After commit: send the claimed delivery in this process and record the outcome (steps 2 and 3, as the task
    does), so a chat reply reaches the visitor without a trip through the task queue. An unexpected error leaves
    it to the worker and the sweep, as a worker that died would."""
    try:
        _attempt(claim, quick=True, **agent)
    except Exception:
        logger.exception("inboxes: sending delivery %s in the request failed; the worker will", claim.delivery.pk)
        _publish([claim.delivery.pk])


def _publish(delivery_ids: list[int]) -> None:
    for delivery_id in delivery_ids:
        try:
            task_named(DELIVERY_SEND_TASK).apply_async((delivery_id,), expires=PUBLISH_LEASE_SECONDS)
        except Exception:
            # the row is committed: the sweep publishes it once the lease runs out
            logger.exception("inboxes: could not publish delivery %s; the sweep will", delivery_id)


def delivery_publish_due(*, limit: int = SWEEP_BATCH) -> int:
    """Publish pending deliveries that are due and not in flight (the beat sweep). Returns how many."""
    now = timezone.now()
    return outbox_lease_due(
        due=Delivery.objects.filter(status=D.PENDING, next_attempt_at__lte=now, inbox__state=InboxState.ACTIVE),
        order_by="next_attempt_at",
        now=now,
        limit=limit,
        publish=_publish,
    )


def delivery_retry(*, message: Message) -> Delivery:
    """Put a failed delivery back in the outbox, as if new: no attempts, its age counted from now (the message keeps
    its own time). ``DomainError`` (409) when the message has no failed delivery."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().filter(message_id=message.pk).first()
        if delivery is None:
            raise DomainError(_("This message is not delivered through an inbox."), code="no_delivery")
        if delivery.status != D.FAILED:
            raise DomainError(
                _("Only a failed delivery can be retried; this one is %(status)s.") % {"status": delivery.status},
                code="delivery_not_failed",
            )
        now = timezone.now()
        delivery.status, delivery.attempts, delivery.error = D.PENDING, 0, ""
        delivery.next_attempt_at, delivery.created_at = now, now
        delivery.leased_until = now + timedelta(seconds=PUBLISH_LEASE_SECONDS)
        delivery.save(update_fields=["status", "attempts", "error", "next_attempt_at", "created_at", "leased_until"])
        Message.objects.filter(pk=message.pk).update(delivery_status=D.PENDING)
        message.delivery_status = D.PENDING
        _announce(delivery, interaction_id=message.interaction_id)
        transaction.on_commit(lambda: _publish([delivery.pk]))
    return delivery


# --- sending --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claim:
    delivery: Delivery
    attempt: int


def retry_delay(attempts: int) -> float:
    """Exponential backoff with jitter: a random wait in [½, 1] × min(max, base × 2^(attempts-1))."""
    ceiling = min(
        settings.DELIVERY_RETRY_MAX_DELAY_SECONDS, settings.DELIVERY_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    )
    return ceiling * (0.5 + random.random() / 2)  # noqa: S311 (jitter, not security)


def delivery_send(*, delivery_id: int) -> str | None:
    """Send one pending, due delivery through its inbox's adapter and record the outcome; the resulting status, or
    None when there was nothing to do (not pending, not due, or another worker has it). Idempotent."""
    claim = _claim(delivery_id)
    if claim is None:
        return None
    return _attempt(claim)


def _attempt(claim: _Claim, *, quick: bool = False, **agent) -> str:
    """Send a claimed delivery and record the outcome (``agent``: the ``agent_id`` to tell, when the caller knows;
    ``quick``: a success is recorded without reading the row, as ``_record_sent`` can)."""
    delivery = claim.delivery
    outcome: SendResult | DeliveryError
    try:
        if not delivery.inbox.is_active:
            raise PermanentFailure(f"the inbox {delivery.inbox.name} is deactivated")
        outcome = _send(delivery.inbox, outbound_message_for(delivery=delivery))
    except DeliveryError as exc:
        outcome = exc
    except InvalidSettings as exc:
        outcome = PermanentFailure(f"the inbox's settings are not valid: {exc}")
    except LookupError as exc:
        outcome = PermanentFailure(str(exc))
    except Exception as exc:  # an adapter's bug or an unmapped error: retried, then failed with it, never lost
        logger.exception("inboxes: sending delivery %s failed unexpectedly", delivery.pk)
        outcome = TemporaryFailure(f"{type(exc).__name__}: {exc}")
    if quick and isinstance(outcome, SendResult) and (status := _record_sent(delivery, outcome, **agent)):
        return status
    return _record(delivery_id=delivery.pk, attempt=claim.attempt, outcome=outcome, **agent)


def _record_sent(delivery: Delivery, result: SendResult, **agent) -> str | None:
    """``_record`` of a success for the in-request send, which holds the delivery and its message already: one
    statement marks the delivery sent while it is still pending and its message with it, instead of locking and
    reading them (a sent outcome stands whatever the attempt, as there). It is atomic on its own: no transaction
    around it. None when the row is no longer pending: ``_record`` decides."""
    now = timezone.now()
    delivery.status, delivery.leased_until = D.SENT, None
    delivery.error = "; ".join(f"{address} refused: {reason}" for address, reason in result.refused.items())
    delivery.provider_id, delivery.sent_at = result.provider_id[:300], now
    external_id = result.provider_id[:200] if result.provider_id and not delivery.message.external_id else None
    with connections[router.db_for_write(Delivery)].cursor() as cursor:
        cursor.execute(*sent_sql(delivery, external_id=external_id))
        if cursor.fetchone() is None:
            return None
    _announce(delivery, interaction_id=delivery.message.interaction_id, **agent)
    return D.SENT


def _send(inbox: Inbox, message: OutboundMessage) -> SendResult:
    try:
        return inbox_adapter(inbox).send(message)
    except AuthenticationFailed:
        if inbox.adapter != "email" or not oauth_configured(inbox.settings):
            raise
    inbox_forget_access_token(inbox)  # the server refused the cached OAuth token: one fresh one, at once
    return inbox_adapter(inbox, fresh_token=True).send(message)


def _claim(delivery_id: int) -> _Claim | None:
    """Take the row for one attempt, committed before anything is sent (see the module's docstring)."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("inbox", "message__interaction__customer")
            .filter(pk=delivery_id, status=D.PENDING)
            .first()
        )
        if delivery is None or delivery.inbox.state != InboxState.ACTIVE:
            return None  # gone, sent, or its inbox waits for re-authorisation (which publishes it again)
        now = timezone.now()
        if delivery.next_attempt_at > now + timedelta(seconds=1):
            return None  # a retry not yet due, or an attempt in flight: the sweep publishes it in time
        if delivery.attempts >= settings.DELIVERY_MAX_ATTEMPTS:
            # attempts that never reported back (their worker died while sending) used up the allowance
            reason = f"gave up after {delivery.attempts} attempts that did not finish (the worker stopped)"
            _finish(delivery, status=D.FAILED, error=reason, now=now)
            return None
        delivery.attempts += 1
        delivery.next_attempt_at = now + timedelta(seconds=settings.DELIVERY_SEND_LEASE_SECONDS)
        delivery.leased_until = None
        delivery.save(update_fields=["attempts", "next_attempt_at", "leased_until"])
    return _Claim(delivery=delivery, attempt=delivery.attempts)


def _record(*, delivery_id: int, attempt: int, outcome: SendResult | DeliveryError, **agent) -> str:
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",)).select_related("message", "inbox").get(pk=delivery_id)
        )
        now = timezone.now()
        if delivery.status != D.PENDING:
            return delivery.status  # an outcome is recorded already: it stands
        if isinstance(outcome, AuthenticationFailed) and delivery.attempts == attempt:
            _wait_for_reauthorisation(delivery, reason=_describe(outcome), now=now)
            return delivery.status
        if isinstance(outcome, SendResult):
            refused = "; ".join(f"{address} refused: {reason}" for address, reason in outcome.refused.items())
            _finish(delivery, status=D.SENT, error=refused, now=now, provider_id=outcome.provider_id, **agent)
            return delivery.status
        if delivery.attempts != attempt:
            return delivery.status  # a later attempt took over (ours outlived its lease): it records the outcome
        error = _describe(outcome)
        too_old = now - delivery.created_at > timedelta(seconds=settings.DELIVERY_MAX_AGE_SECONDS)
        if isinstance(outcome, TemporaryFailure) and delivery.attempts < settings.DELIVERY_MAX_ATTEMPTS and not too_old:
            delivery.error = f"{error} (attempt {delivery.attempts}; trying again)"
            delivery.next_attempt_at = now + timedelta(seconds=retry_delay(delivery.attempts))
            delivery.save(update_fields=["error", "next_attempt_at"])
            _announce(delivery, interaction_id=delivery.message.interaction_id, **agent)
            return delivery.status
        if isinstance(outcome, TemporaryFailure):
            error = f"{error} (gave up after {delivery.attempts} attempts)"
        _finish(delivery, status=D.FAILED, error=error, now=now, **agent)
        return delivery.status


def _wait_for_reauthorisation(delivery: Delivery, *, reason: str, now: datetime) -> None:
    """The inbox's credentials were refused: this attempt does not count, and the delivery waits for them."""
    inbox_require_reauthorisation(inbox=delivery.inbox, reason=reason)
    delivery.attempts = max(delivery.attempts - 1, 0)
    delivery.error = f"waiting: the inbox {delivery.inbox.name} needs re-authorisation ({reason})"[:2000]
    delivery.next_attempt_at = now
    delivery.save(update_fields=["attempts", "error", "next_attempt_at"])
    _announce(delivery, interaction_id=delivery.message.interaction_id)


def delivery_resume_inbox(*, inbox: Inbox) -> int:
    """The inbox works again: its waiting deliveries are due now, published on commit. Answers how many."""
    now = timezone.now()
    resumed = Delivery.objects.filter(inbox=inbox, status=D.PENDING).update(
        next_attempt_at=now, leased_until=None, error=""
    )
    if resumed:
        transaction.on_commit(delivery_publish_due)
    return resumed


def _describe(failure: DeliveryError) -> str:
    return failure.reason[:2000] if failure.reason else type(failure).__name__


def _finish(delivery: Delivery, *, status: str, error: str, now: datetime, provider_id: str = "", **agent) -> None:
    """Record the outcome on the delivery and its message, and what it causes (in the caller's transaction)."""
    delivery.status, delivery.error, delivery.leased_until = status, error, None
    fields = ["status", "error", "leased_until"]
    message_fields: dict[str, str] = {"delivery_status": status}
    if status == D.SENT:
        delivery.provider_id, delivery.sent_at = provider_id[:300], now
        fields += ["provider_id", "sent_at"]
        if provider_id and not delivery.message.external_id:
            # e-mail: our Message-ID, which the customer's reply names in In-Reply-To / References
            message_fields["external_id"] = provider_id[:200]
    delivery.save(update_fields=fields)
    Message.objects.filter(pk=delivery.message_id).update(**message_fields)
    for name, value in message_fields.items():
        setattr(delivery.message, name, value)
    if status == D.FAILED:
        webhook_emit(
            type="message.delivery_failed",
            data={
                **message_webhook_data(delivery.message, inbox_id=delivery.inbox_id),
                "delivery": {"id": delivery.pk, "status": status, "attempts": delivery.attempts, "error": error},
            },
            at=now,
        )
    _announce(delivery, interaction_id=delivery.message.interaction_id, **agent)


def _announce(delivery: Delivery, *, interaction_id: int, **agent) -> None:
    """Tell the live console after commit (``crm.live`` listens): the status beside the reply changes in place.
    ``agent``: ``agent_id``, the agent holding the interaction, when the caller knows it (no query to find it)."""
    details = {
        **agent,
        "delivery_id": delivery.pk,
        "message_id": delivery.message_id,
        "interaction_id": interaction_id,
        "status": delivery.status,
        "error": delivery.error,
        "attempts": delivery.attempts,
    }
    transaction.on_commit(lambda: delivery_changed.send(sender=Delivery, **details))
