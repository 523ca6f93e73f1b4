"""The queued import under concurrency and crashes, committing for real: two drainers of one inbox at once (real
threads, each with its own connection) import each mail once and in order; a drain whose database session dies
mid-batch leaves its mails queued, and the sweep imports them once; one mail that fails in a batch is recorded
failed while the others import. Failures come from PostgreSQL itself (a trigger, a terminated backend)."""

import logging
import threading
import time
import uuid

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from crm.inboxes.adapters.email import EmailAdapter
from crm.inboxes.models import InboundReceipt, ReceiptStatus
from crm.inboxes.services.queued import drain_starting, email_accept, email_drain, queued_sweep
from crm.interactions.models import Interaction, Message
from crm.routing.services.triggers import routing_run_starting
from tests.crm.inboxes.email import corpus
from tests.crm.inboxes.factories import InboxFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("own_cache_generation")]


@pytest.fixture
def queued(publish_to):
    """A queued inbox whose drain requests go to a broker queue nobody reads: the test drains by itself."""
    queue = f"test-queued-{uuid.uuid4().hex[:12]}"
    publish_to(queue)
    inbox = InboxFactory(settings=EmailAdapter.validate_settings({"address": corpus.SUPPORT, "import": "queued"}))
    yield inbox
    redis.Redis.from_url(django_settings.CELERY_BROKER_URL).delete(queue)
    # the requests sent to that queue left "run pending" marks: a later test's requests must not wait on them
    routing_run_starting()
    drain_starting(inbox_id=inbox.pk)


@pytest.fixture
def message_trigger():
    """A trigger on the messages' table: ``install(sql)`` runs ``sql`` (PL/pgSQL) before each insert."""
    table = Message._meta.db_table

    def install(body: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE FUNCTION test_queued_trap() RETURNS trigger AS $$ BEGIN {body} RETURN NEW; END $$ LANGUAGE plpgsql"
            )  # noqa: E501
            cursor.execute(
                f"CREATE TRIGGER test_queued_trap BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION test_queued_trap()"
            )  # noqa: E501

    yield install
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER IF EXISTS test_queued_trap ON {table}")
        cursor.execute("DROP FUNCTION IF EXISTS test_queued_trap()")


_chain = corpus.conversation


def _in_thread(target, errors: list):
    def run():
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 (kept for the test to look at)
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_two_drainers_at_once_share_the_work_and_keep_each_conversation_in_order(queued):
    threads, steps = 4, 8
    for step in range(steps):  # interleaved conversations; each reply arrives after the mail it answers
        for thread in range(threads):
            assert email_accept(inbox=queued, raw=_chain(thread, step)).status == ReceiptStatus.QUEUED
    start, drained, errors = threading.Barrier(2), [], []

    def drainer():
        start.wait(10)
        drained.append(email_drain(inbox_id=queued.pk, batch=3, rounds=50))

    for worker in [_in_thread(drainer, errors), _in_thread(drainer, errors)]:
        worker.join(60)

    assert not errors and sum(drained) == threads * steps
    assert min(drained) > 0, "both drainers took batches (side by side, not one after the other)"
    assert Interaction.objects.count() == threads  # no reply ever came before the mail it answers
    assert not InboundReceipt.objects.exclude(status=ReceiptStatus.IMPORTED).exists()
    for interaction in Interaction.objects.all():
        bodies = list(interaction.messages.order_by("id").values_list("body", flat=True))
        number = interaction.subject.split()[-1]
        assert bodies == [f"thread {number} step {step}" for step in range(steps)]
    # each receipt names its own message; within a conversation, created in the order the mails arrived
    for interaction in Interaction.objects.all():
        receipts = InboundReceipt.objects.filter(interaction=interaction).order_by("id")
        messages = list(receipts.values_list("message_id", flat=True))
        assert messages == sorted(messages) and len(set(messages)) == steps


def test_a_drain_whose_session_dies_mid_batch_leaves_its_mails_queued_for_the_sweep(queued, message_trigger, request):
    message_trigger("IF NEW.body LIKE '%stall here%' THEN PERFORM pg_sleep(30); END IF;")
    for body in ("first", "stall here", "third"):
        email_accept(inbox=queued, raw=corpus.message(body=body, message_id=f"<{body[:5]}@example.com>").as_bytes())
    errors: list = []
    drainer = _in_thread(lambda: email_drain(inbox_id=queued.pk, batch=10), errors)
    with connection.cursor() as cursor:  # the drainer is inside its batch, on the second mail
        deadline = time.monotonic() + 20
        pid = None
        while pid is None and time.monotonic() < deadline:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND pid <> pg_backend_pid()"
                " AND datname = current_database()"
            )
            row = cursor.fetchone()
            pid = row and row[0]
            time.sleep(0.05)
        assert pid, "the drainer never reached the stalled mail"
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    drainer.join(20)

    assert errors, "the drain should have died with its session"
    assert list(InboundReceipt.objects.values_list("status", flat=True)) == [ReceiptStatus.QUEUED] * 3
    assert not Interaction.objects.exists() and not Message.objects.exists()

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER test_queued_trap ON {Message._meta.db_table}")
    assert queued_sweep(older_than=60) == 0  # not stale yet: a drain may be on its way
    request.getfixturevalue("eager_tasks")
    assert queued_sweep(older_than=0) == 1  # the drain runs (eagerly here, in the worker in production)
    assert queued_sweep(older_than=0) == 0

    assert set(InboundReceipt.objects.values_list("status", flat=True)) == {ReceiptStatus.IMPORTED}
    assert sorted(Message.objects.values_list("body", flat=True)) == ["first", "stall here", "third"]


def test_one_mail_failing_in_a_batch_is_recorded_failed_and_the_others_import(queued, message_trigger):
    message_trigger("IF NEW.body LIKE '%explode%' THEN RAISE EXCEPTION 'storage refused this message'; END IF;")
    for body in ("first", "please explode", "third"):
        email_accept(inbox=queued, raw=corpus.message(body=body, message_id=f"<{body[-5:]}@example.com>").as_bytes())

    assert email_drain(inbox_id=queued.pk, batch=10) == 3

    receipts = {receipt.key: receipt for receipt in InboundReceipt.objects.all()}
    failed = receipts.pop("plode@example.com")
    assert failed.status == ReceiptStatus.FAILED and "storage refused this message" in failed.reason
    assert b"please explode" in bytes(failed.raw)
    assert failed.interaction is None and failed.message is None
    assert {receipt.status for receipt in receipts.values()} == {ReceiptStatus.IMPORTED}
    assert Interaction.objects.count() == 2


def test_a_queued_mail_costs_the_endpoint_one_statement(queued, post_mail):
    post_mail(queued, corpus.message(message_id="<warm@example.com>").as_bytes())  # fills the per-process caches

    with CaptureQueriesContext(connection) as captured:
        response = post_mail(queued, corpus.alternative())

    assert response.status_code == 202
    [statement] = [query["sql"] for query in captured.captured_queries]
    assert statement.startswith('INSERT INTO "crm_inboundreceipt"') and "ON CONFLICT" in statement


def test_the_sweep_leaves_an_inbox_being_drained_alone_and_starts_the_others(queued, request):
    import psycopg

    from crm.inboxes.services.queued import _LOCK_CLASS

    other = InboxFactory(settings=EmailAdapter.validate_settings({"address": "sales@acme.test", "import": "queued"}))
    email_accept(inbox=queued, raw=corpus.message(message_id="<busy@example.com>").as_bytes())
    email_accept(inbox=other, raw=corpus.message(message_id="<idle@example.com>").as_bytes())
    s = connection.settings_dict
    drainer = psycopg.connect(f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}")
    try:
        drainer.execute("SELECT pg_advisory_lock(%s, %s)", [_LOCK_CLASS, queued.pk])  # a drainer at work on it
        request.getfixturevalue("eager_tasks")

        assert queued_sweep(older_than=0) == 1  # the other inbox only

        statuses = dict(InboundReceipt.objects.values_list("key", "status"))
        assert statuses == {"busy@example.com": ReceiptStatus.QUEUED, "idle@example.com": ReceiptStatus.IMPORTED}
    finally:
        drainer.close()
    drain_starting(inbox_id=other.pk)


def _pid_sleeping(cursor, timeout: float = 20) -> int:
    """The backend of the other connection stalled in the test's trigger (``pg_sleep``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND pid <> pg_backend_pid()"
            " AND datname = current_database()"
        )
        row = cursor.fetchone()
        if row:
            return row[0]
        time.sleep(0.02)
    raise AssertionError("no drainer reached the stalled mail")


def _status(key: str) -> str:
    return InboundReceipt.objects.get(key=key).status


def test_a_reply_whose_parent_another_drainer_is_importing_waits_for_it_and_joins_its_thread(queued, message_trigger):
    message_trigger("IF NEW.body = 'thread 0 step 0' THEN PERFORM pg_sleep(2); END IF;")
    for raw in (_chain(0, 0), _chain(0, 1), _chain(1, 0)):  # the parent, its reply, another customer's new mail
        email_accept(inbox=queued, raw=raw)
    errors: list = []
    first = _in_thread(lambda: email_drain(inbox_id=queued.pk, batch=1, rounds=1), errors)  # takes the parent
    with connection.cursor() as cursor:
        _pid_sleeping(cursor)  # the parent's batch is open, its message being written
        second = _in_thread(lambda: email_drain(inbox_id=queued.pk, batch=5, rounds=5), errors)
        # side by side: the other customer's mail is imported while the parent's batch is still open
        deadline = time.monotonic() + 10
        while _status("t1-0@example.com") != ReceiptStatus.IMPORTED and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _status("t1-0@example.com") == ReceiptStatus.IMPORTED
        assert _status("t0-0@example.com") == ReceiptStatus.QUEUED  # not committed yet
        assert _status("t0-1@example.com") == ReceiptStatus.QUEUED  # the reply waits for its parent
    first.join(20)
    second.join(20)

    assert not errors
    assert Interaction.objects.count() == 2  # the reply started nothing of its own
    thread = Interaction.objects.get(subject="Case 0")
    assert list(thread.messages.order_by("id").values_list("body", flat=True)) == ["thread 0 step 0", "thread 0 step 1"]
    assert set(InboundReceipt.objects.values_list("status", flat=True)) == {ReceiptStatus.IMPORTED}


def test_a_reply_whose_late_original_another_drainer_holds_waits_for_it_and_joins_its_thread(queued):
    # the reply is stored first (an MTA retried the original later); another drainer's batch holds the original —
    # here a transaction holding its row locked, as a batch does — so this drainer cannot take it into its batch
    email_accept(inbox=queued, raw=_chain(0, 1))
    original = email_accept(inbox=queued, raw=_chain(0, 0))
    errors: list = []
    held, release = threading.Event(), threading.Event()

    def other_drainer():
        with transaction.atomic():
            list(InboundReceipt.objects.select_for_update().filter(pk=original.pk))
            held.set()
            release.wait(10)

    holder = _in_thread(other_drainer, errors)
    assert held.wait(10)
    drainer = _in_thread(lambda: email_drain(inbox_id=queued.pk, batch=5, rounds=3), errors)
    with connection.cursor() as cursor:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the drainer, its batch committed, waits for the original's row
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                break
            time.sleep(0.02)
        else:
            raise AssertionError("the drainer never waited for the original")
    assert _status("t0-1@example.com") == ReceiptStatus.QUEUED  # the reply did not go first
    release.set()
    holder.join(20)
    drainer.join(20)

    assert not errors
    assert Interaction.objects.count() == 1  # the reply started nothing of its own
    thread = Interaction.objects.get()
    assert list(thread.messages.order_by("id").values_list("body", flat=True)) == ["thread 0 step 0", "thread 0 step 1"]
    assert set(InboundReceipt.objects.values_list("status", flat=True)) == {ReceiptStatus.IMPORTED}


def test_two_batches_locking_two_threads_in_opposite_order_end_in_a_deadlock_and_both_import(
    queued, message_trigger, caplog
):
    caplog.set_level(logging.INFO, logger="crm.inboxes.services.queued")
    for thread in (1, 2):
        email_accept(inbox=queued, raw=_chain(thread, 0))
    assert email_drain(inbox_id=queued.pk) == 2  # two open conversations

    def reply(thread: int, who: str) -> bytes:
        parent = f"<t{thread}-0@example.com>"
        return corpus.message(
            sender=f"Customer {thread} <c{thread}@example.com>",
            subject=f"Re: Case {thread}",
            body=f"{who} answers {thread}",
            message_id=f"<{who}-{thread}@example.com>",
            headers={"In-Reply-To": parent, "References": parent},
        ).as_bytes()

    # the first drainer's batch answers thread 1 then 2, the second's thread 2 then 1; each stalls on its first
    for raw in (reply(1, "a"), reply(2, "a"), reply(2, "b"), reply(1, "b")):
        email_accept(inbox=queued, raw=raw)
    message_trigger("IF NEW.body IN ('a answers 1', 'b answers 2') THEN PERFORM pg_sleep(1.5); END IF;")
    errors: list = []
    drained: list[int] = []

    def drainer():
        drained.append(email_drain(inbox_id=queued.pk, batch=2, rounds=3))

    first = _in_thread(drainer, errors)
    with connection.cursor() as cursor:
        _pid_sleeping(cursor)  # the first batch holds thread 1
        second = _in_thread(drainer, errors)
    first.join(30)
    second.join(30)

    assert not errors and sorted(drained) == [2, 2]
    assert "deadlock" in caplog.text  # PostgreSQL rolled one batch back, and its drainer took it again
    for thread in (1, 2):
        bodies = set(Interaction.objects.get(subject=f"Case {thread}").messages.values_list("body", flat=True))
        assert bodies == {f"thread {thread} step 0", f"a answers {thread}", f"b answers {thread}"}
    assert set(InboundReceipt.objects.values_list("status", flat=True)) == {ReceiptStatus.IMPORTED}


def test_a_full_first_batch_asks_for_a_second_drain_to_work_beside_it(counted_queue):
    from config.coalesced import flush_pending_requests

    inbox = InboxFactory(settings=EmailAdapter.validate_settings({"address": corpus.SUPPORT, "import": "queued"}))
    for thread in range(3):
        email_accept(inbox=inbox, raw=_chain(thread, 0))
    flush_pending_requests()
    queued_before = counted_queue()
    drain_starting(inbox_id=inbox.pk)  # the drain asked for by those mails starts
    try:
        assert email_drain(inbox_id=inbox.pk, batch=2, rounds=5) == 3  # a full batch of 2, then the last one

        assert counted_queue() == queued_before + 1  # the help asked for after the first batch
    finally:
        drain_starting(inbox_id=inbox.pk)


def test_a_last_batch_that_is_not_full_asks_for_nothing(counted_queue):
    from config.coalesced import flush_pending_requests

    inbox = InboxFactory(settings=EmailAdapter.validate_settings({"address": corpus.SUPPORT, "import": "queued"}))
    email_accept(inbox=inbox, raw=_chain(0, 0))
    flush_pending_requests()
    queued_before = counted_queue()
    drain_starting(inbox_id=inbox.pk)
    try:
        assert email_drain(inbox_id=inbox.pk, batch=2) == 1

        assert counted_queue() == queued_before
    finally:
        drain_starting(inbox_id=inbox.pk)


def test_the_sweep_sees_a_drainer_at_work_by_its_shared_lock(queued, message_trigger):
    message_trigger("IF NEW.body = 'thread 0 step 0' THEN PERFORM pg_sleep(1); END IF;")
    for thread in (0, 1):
        email_accept(inbox=queued, raw=_chain(thread, 0))
    errors: list = []
    drainer = _in_thread(lambda: email_drain(inbox_id=queued.pk, batch=1, rounds=5), errors)
    with connection.cursor() as cursor:
        _pid_sleeping(cursor)  # a drainer is inside its batch; the other mail waits for its next round

        assert queued_sweep(older_than=0) == 0  # no second drain started for an inbox being drained
    drainer.join(20)

    assert not errors
    assert set(InboundReceipt.objects.values_list("status", flat=True)) == {ReceiptStatus.IMPORTED}
