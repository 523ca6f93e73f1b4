"""The queued import of an e-mail inbox (setting ``"import": "queued"``): store now, import in a worker.

The endpoint (``email_accept``) reads the headers only — the Message-ID, or the same synthetic key the full
import computes for a mail without one (``adapters.email.parse.message_key``) — and stores the raw bytes in one
``INSERT … ON CONFLICT DO NOTHING`` of a receipt ``queued``. The answer comes once that row is committed, so a
mail answered ``202`` is never lost; a duplicate finds the row and is answered as one.

After the commit a drain of the inbox is asked for (``request_drain``): one pending at a time per inbox, however
many mails arrive (a "drain pending" mark in Redis, ``SET NX``, cleared by the drain as it starts, before it reads:
``config.coalesced``, as for routing runs; the endpoint's process asks once for a burst of mails, from its requester
thread, ``request_soon``). ``email_drain`` imports the inbox's queued receipts **each conversation in arrival
order** (by id), a batch per transaction, each mail through the immediate import's own code
(``inbound.import_into``): the receipt turns imported, noise or failed exactly as an immediate import would, and
keeps its raw bytes only when failed. Several drainers of one inbox work side by side (a worker process each; a full
first batch asks for another drain at once): a batch takes the oldest queued receipts no other drainer holds (``FOR
UPDATE SKIP LOCKED``). What order must hold is causal: a mail that answers another (``In-Reply-To``/``References``)
still queued before it, in another drainer's batch, is left queued, and its drainer waits (holding nothing) until
that batch commits, then takes it in its next round — so a reply never starts an interaction of its own because its
parent was being imported beside it. The other way round too: a mail stored after a queued mail that answers it (an
MTA retried the first one later) is taken into the reply's batch (when no other drainer holds it; else the reply
waits for it) and imported before it (``_late_parents``, ``_in_answering_order``; two mails each naming the other, a
forgery, go in arrival order). Mails of different conversations may commit in either order. Every drainer holds the
inbox's advisory lock shared, which ``queued_sweep`` reads. Two batches that lock the same rows in opposite order
(two replies to the same two interactions) are a deadlock PostgreSQL breaks by rolling one back: that batch is taken
again. One mail that fails inside a batch is rolled back to its own savepoint and recorded failed with its reason;
the others import. A worker killed mid-batch rolls the whole batch back: its receipts stay queued, and
``queued_sweep`` (beat) restarts the drain of any inbox whose queued mail waited more than ``STALE_SECONDS`` while
no drainer holds its lock.

"Arrival order" is the order of the receipts' ids: the order the endpoint answered in (two requests inserting
at the same instant commit in either order; an MTA sends a reply only after the mail it answers).

A mail whose headers are readable but whose body is not keys its receipt by its Message-ID here, while the
immediate import keys such a mail by the hash of its bytes: both end as one failed receipt with the raw bytes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone
from psycopg.errors import DeadlockDetected

from config.coalesced import CoalescedTask
from config.savepoints import whole_step
from crm.interactions.services import announced_together

from ..adapters.base import MalformedMessage, ParsedInbound
from ..adapters.email.parse import message_key_sender_and_named
from ..models import InboundReceipt, Inbox, ReceiptStatus
from ..selectors import inbox_with_queue
from .inbound import (
    failure_reason,
    import_into,
    log_failure,
    parse_for_inbox,
    participants_named,
    participants_of,
    receipt_key,
)
from .receipts import insert_unless_present

logger = logging.getLogger(__name__)

DRAIN_TASK = "crm.inboxes.tasks.email_drain"
BATCH = 25  # mails per transaction: the after-commit work (live events, routing trigger) is coalesced per batch
ROUNDS = 4  # batches per task run; then the drain queues itself again: routing (and other inboxes) get a turn
ERASED = "erased before it was imported: nothing to import"
STALE_SECONDS = 5  # a queued mail this old with no drainer at work: the sweep starts one
PENDING_MARK_SECONDS = 30  # a requested drain that never started (lost on the way) stops blocking new requests
# at most one drain pending per inbox, however much mail asks (config.coalesced, as the routing runs)
_DRAINS = CoalescedTask(
    task=DRAIN_TASK,
    mark="inboxes:drain-pending",
    pending_seconds=PENDING_MARK_SECONDS,
    what="queued e-mail",
    run="drain",
)
_LOCK_CLASS = 0x53424551  # pg_advisory_xact_lock(class, inbox id): "SBEQ", the queued e-mail import


class InboxClosed(LookupError):
    """The inbox read from a cache is no longer active with that token: nothing was stored."""


def email_accept(*, inbox: Inbox, raw: bytes, source: str = "endpoint", cached: bool = False) -> InboundReceipt:
    """Store ``raw`` as a queued receipt of ``inbox`` and ask for a drain once committed. ``receipt.duplicate``:
    the message was already here (queued, imported or noise) and nothing was done. A message already here as
    failed is queued again with these bytes (as the immediate import runs it again).

    ``cached``: ``inbox`` comes from a cache that may lag a change (``selectors.email_inbox_for_token``'s
    ``stale_for``); the INSERT stores the mail only while the inbox is active with its token, and ``InboxClosed``
    is raised, nothing stored, when it no longer is."""
    raw = bytes(raw)
    try:
        message_id, sender, named = message_key_sender_and_named(raw)
    except MalformedMessage:
        message_id, sender, named = None, "", ()  # stored all the same: the drain records it failed, with its reason
    key = receipt_key(message_id=message_id, raw=raw)
    receipt = InboundReceipt(
        inbox_id=inbox.pk,  # (the id alone: ``inbox`` may be the process's cached instance, not to be linked to)
        key=key,
        status=ReceiptStatus.QUEUED,
        raw=raw,
        size=len(raw),
        source=source[:16],
        # known before the import: a customer's erasure (crm.privacy) finds their mail while it waits in the queue,
        # as its sender or as anyone it names (To, Cc, Reply-To)
        sender=sender[:254],
        participants=participants_named(inbox=inbox, named=named),
        received_at=timezone.now(),
    )
    # one statement: in autocommit (the endpoint) its own transaction
    if insert_unless_present(receipt, while_token=inbox.token if cached else None):
        receipt.duplicate = False
        request_drain(inbox_id=inbox.pk)
        return receipt
    if cached and not Inbox.objects.filter(pk=inbox.pk, token=inbox.token, is_active=True).exists():
        raise InboxClosed(inbox.pk)
    with transaction.atomic():
        found = InboundReceipt.objects.select_for_update().get(inbox=inbox, key=key)
        if found.status != ReceiptStatus.FAILED:
            found.duplicate = True
            return found
        found.status, found.reason, found.raw, found.size = ReceiptStatus.QUEUED, "", raw, len(raw)
        found.sender = sender[:254] or found.sender
        found.participants = participants_named(inbox=inbox, named=named) or found.participants
        found.attempts += 1
        found.save(update_fields=["status", "reason", "raw", "size", "sender", "participants", "attempts"])
        found.duplicate = False
        request_drain(inbox_id=inbox.pk)
        return found


def email_drain(*, inbox_id: int, batch: int = BATCH, rounds: int = ROUNDS) -> int:
    """Import the queued receipts of one inbox, ``batch`` per transaction, each conversation in arrival order.
    Answers how many were imported; queues a drain again when more may be waiting.

    Several drains of one inbox run side by side (each worker process one): a batch takes the oldest queued
    receipts no other drainer holds (``SKIP LOCKED``), and a mail that answers one still queued before it in
    another drainer's batch waits for that one (``_held_elsewhere``). A full first batch asks for another drain at
    once, so a second worker process joins a backlog."""
    drained = 0
    for round_ in range(rounds):
        try:
            done, full, waits = _drain_batch(inbox_id=inbox_id, batch=batch)
        except OperationalError as exc:
            if not isinstance(exc.__cause__, DeadlockDetected):
                raise  # the database is gone: the batch rolled back and stays queued for the next drain
            # two drainers' batches locked the same rows in opposite order; PostgreSQL chose this one to roll back
            logger.info("queued mail of inbox %s: a batch met another drainer's in a deadlock; taken again", inbox_id)
            continue
        if done is None:
            return drained  # the inbox was deleted, and its receipts with it
        drained += done
        if full and round_ == 0:  # a backlog: an idle worker process, if there is one, drains beside this one
            _DRAINS.request_now(inbox_id, kwargs={"inbox_id": inbox_id})
        if waits:  # outside any batch (no row of ours locked): until the other drainer's batch commits
            with transaction.atomic():
                list(InboundReceipt.objects.select_for_update().filter(pk__in=waits).values_list("pk", flat=True))
        elif not full:
            return drained
    _DRAINS.request_now(
        inbox_id, kwargs={"inbox_id": inbox_id}
    )  # a backlog: queued again (unless a drain is pending already) behind the routing runs
    return drained


def _drain_batch(*, inbox_id: int, batch: int) -> tuple[int | None, bool, list[int]]:
    """One batch in one transaction: (mails imported, or None for a deleted inbox; whether the batch was full; the
    receipts of other drainers that some of its mails wait for, left queued for the next round)."""
    with transaction.atomic():
        with connection.cursor() as cursor:  # shared by every drainer: the sweep sees the inbox is being drained
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s, %s)", [_LOCK_CLASS, inbox_id])
        inbox = Inbox.objects.filter(pk=inbox_id).first()
        if inbox is None:
            return None, False, []
        inbox = inbox_with_queue(inbox)  # from routing's per-process cache: not read again for each batch
        receipts = list(
            InboundReceipt.objects.select_for_update(skip_locked=True)
            .filter(inbox_id=inbox_id, status=ReceiptStatus.QUEUED)
            .order_by("id")[:batch]
        )
        work = [_Queued.read(receipt, inbox=inbox) for receipt in receipts]
        elsewhere = _held_elsewhere(inbox_id=inbox_id, work=work)
        late = _late_parents(work=work, elsewhere=elsewhere)
        if late:  # stored after a mail of the batch that answers them: imported first, in this batch
            work += [_Queued.read(receipt, inbox=inbox) for receipt in late]
            elsewhere = _held_elsewhere(inbox_id=inbox_id, work=work)
        blockers: set[int] = set()
        skipped: set[str] = set()  # keys of this batch's mails left for the next round
        done = 0
        # what the batch changes is announced once it commits, as one batch (one round of live events, one
        # routing request), not mail by mail
        with announced_together():
            for item in _in_answering_order(work):
                receipt = item.receipt
                # answered mails still queued outside the batch: earlier ones another drainer has not committed,
                # and late ones (``_late_parents``) another drainer holds
                held = {elsewhere[key] for key in item.answers if key in elsewhere}
                if held or not skipped.isdisjoint(item.answers):  # answers a mail not imported yet
                    blockers |= held
                    skipped.add(receipt.key)
                    continue
                receipt.inbox = inbox
                _import_one(receipt=receipt, inbox=inbox, parsed=item.parsed, failure=item.failure)
                done += 1
    return done, len(receipts) == batch, sorted(blockers)


def queued_sweep(*, older_than: float = STALE_SECONDS) -> int:
    """(Beat.) Start a drain for each inbox with a queued mail older than ``older_than`` seconds whose lock no
    drainer holds: a drain lost on the way, or a worker killed mid-batch. Answers how many were started."""
    cutoff = timezone.now() - timedelta(seconds=older_than)
    waiting = list(
        InboundReceipt.objects.filter(status=ReceiptStatus.QUEUED, received_at__lt=cutoff)
        .order_by("inbox_id")  # not the model's ordering: one row per inbox
        .values_list("inbox_id", flat=True)
        .distinct()
    )
    started = 0
    draining = _draining() if waiting else set()
    for inbox_id in waiting:
        if inbox_id not in draining:
            _DRAINS.publish(kwargs={"inbox_id": inbox_id}, note=f"inbox {inbox_id}")
            started += 1
    return started


def drain_starting(*, inbox_id: int) -> None:
    """The drain clears its pending mark before it reads: mail committed from now on asks for the next drain."""
    _DRAINS.starting(inbox_id)


def request_drain(*, inbox_id: int) -> None:
    """Ask for a drain of the inbox once the current transaction commits (at most one pending per inbox); a burst
    of mails asks once (``CoalescedTask.request_soon``: the process's requester thread asks after the commits)."""
    _DRAINS.request_soon(inbox_id, kwargs={"inbox_id": inbox_id})


# --- the steps -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Queued:
    """A queued receipt of the batch, parsed, with the receipt keys of the mails it answers (its References and
    In-Reply-To; none when it cannot be read)."""

    receipt: InboundReceipt
    parsed: ParsedInbound | None
    failure: str
    answers: frozenset[str]

    @classmethod
    def read(cls, receipt: InboundReceipt, *, inbox: Inbox) -> _Queued:
        if receipt.raw is None:  # erased while it waited (``_import_one`` records it)
            return cls(receipt, None, ERASED, frozenset())
        parsed, failure = parse_for_inbox(inbox=inbox, raw=bytes(receipt.raw))
        ids = parsed.thread_ids if parsed is not None else ()
        answers = frozenset(receipt_key(message_id=message_id, raw=b"") for message_id in ids) - {receipt.key}
        return cls(receipt, parsed, failure, answers)


def _late_parents(*, work: list[_Queued], elsewhere: dict[str, int]) -> list[InboundReceipt]:
    """The queued receipts outside the batch that a mail of it answers although they were stored after it (an MTA
    that retried the first mail later), those no other drainer holds, locked (none asked for when there are none).
    One another drainer holds stays in ``elsewhere``: the mail answering it waits for it, as for an earlier one."""
    late = {elsewhere[key] for item in work for key in item.answers if elsewhere.get(key, 0) > item.receipt.pk}
    if not late:
        return []
    return list(
        InboundReceipt.objects.select_for_update(skip_locked=True)
        .filter(pk__in=late, status=ReceiptStatus.QUEUED)
        .order_by("id")
    )


def _in_answering_order(work: list[_Queued]) -> list[_Queued]:
    """The batch's mails in arrival order, except that a mail comes after the mails of the batch it answers; a
    forged cycle (two mails each answering the other) is broken by arrival order."""
    pending = sorted(work, key=lambda item: item.receipt.pk)
    in_batch = {item.receipt.key for item in work}
    waiting_for = {item.receipt.pk: set(item.answers & in_batch) for item in pending}
    ordered: list[_Queued] = []
    while pending:
        # the oldest mail whose answered mails are imported (or not in this batch), else the oldest (a cycle)
        index = next((i for i, item in enumerate(pending) if not waiting_for[item.receipt.pk]), 0)
        item = pending.pop(index)
        ordered.append(item)
        for other in pending:
            waiting_for[other.receipt.pk].discard(item.receipt.key)
    return ordered


def _held_elsewhere(*, inbox_id: int, work: list[_Queued]) -> dict[str, int]:
    """Key → id of each queued receipt outside this batch that a mail of the batch answers (one query, none when
    no mail of the batch answers anything): its drainer has not committed it yet, or it arrived late."""
    answered = frozenset().union(*(item.answers for item in work))
    if not answered:
        return {}
    return dict(
        InboundReceipt.objects.filter(inbox_id=inbox_id, status=ReceiptStatus.QUEUED, key__in=answered)
        .exclude(pk__in=[item.receipt.pk for item in work])
        .values_list("key", "pk")
    )


def _import_one(*, receipt: InboundReceipt, inbox: Inbox, parsed: ParsedInbound | None, failure: str) -> None:
    """One queued mail through the immediate import's code, in a savepoint of the batch's transaction."""
    if receipt.raw is None:  # erased (crm.privacy) while it waited: nothing left to import, nor to keep
        receipt.status, receipt.reason = ReceiptStatus.FAILED, ERASED
        receipt.save(update_fields=["status", "reason"])
        return
    raw = bytes(receipt.raw)
    receipt.sender = (parsed.sender if parsed else "")[:254]
    receipt.participants = participants_of(inbox=inbox, parsed=parsed)
    also = ("sender", "participants")
    try:
        with whole_step():  # one savepoint for the mail: the lifecycle's and the message's own are left out
            import_into(receipt=receipt, inbox=inbox, raw=raw, parsed=parsed, failure=failure, again=False, also=also)
    except Exception as exc:
        if isinstance(exc, OperationalError | InterfaceError):
            raise  # the database is gone: the batch rolls back and stays queued for the next drain
        log_failure(exc, "queued mail %s (receipt %s) could not be imported", receipt.key, receipt.pk)
        receipt.status, receipt.reason, receipt.raw, receipt.size = (
            ReceiptStatus.FAILED,
            failure_reason(exc),
            raw,
            len(raw),
        )
        receipt.interaction = receipt.message = None
        receipt.save(update_fields=["status", "reason", "raw", "size", "interaction", "message", *also])


def _draining() -> set[int]:
    """The inboxes whose drain lock a drainer holds or waits for now (one query for all)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND objsubid = 2",
            [_LOCK_CLASS],
        )
        return {row[0] for row in cursor.fetchall()}
