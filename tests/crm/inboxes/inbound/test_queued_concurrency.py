"""The queued import under concurrency and crashes, committing for real: two drainers of one inbox at once (real
threads, each with its own connection) import each mail once and in order; a drain whose database session dies
mid-batch leaves its mails queued, and the sweep imports them once; one mail that fails in a batch is recorded
failed while the others import. Failures come from PostgreSQL itself (a trigger, a terminated backend)."""

import threading
import time
import uuid

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection
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


def _chain(thread: int, step: int) -> bytes:
    """Mail ``step`` of conversation ``thread``: each one answers the one before (step 0 opens it)."""
    headers = {}
    if step:
        parent = f"<t{thread}-{step - 1}@example.com>"
        headers = {"In-Reply-To": parent, "References": parent}
    return corpus.message(
        sender=f"Customer {thread} <c{thread}@example.com>",
        subject=f"Case {thread}" if not step else f"Re: Case {thread}",
        body=f"thread {thread} step {step}",
        message_id=f"<t{thread}-{step}@example.com>",
        headers=headers,
    ).as_bytes()


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


def test_two_drainers_at_once_import_each_mail_once_and_in_order(queued):
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
    assert Interaction.objects.count() == threads  # no reply ever came before the mail it answers
    assert not InboundReceipt.objects.exclude(status=ReceiptStatus.IMPORTED).exists()
    for interaction in Interaction.objects.all():
        bodies = list(interaction.messages.order_by("id").values_list("body", flat=True))
        number = interaction.subject.split()[-1]
        assert bodies == [f"thread {number} step {step}" for step in range(steps)]
    # each receipt names its own message, created in the order the mails arrived
    messages = list(InboundReceipt.objects.order_by("id").values_list("message_id", flat=True))
    assert messages == sorted(messages) and len(set(messages)) == threads * steps


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
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND pid <> pg_backend_pid()")
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
