"""A backlog of queued mail drained by a real Celery worker of two prefork processes (a subprocess on the real
Redis broker, a queue of its own): both processes import, side by side, and still every mail is imported once and
every reply joins its thread. Which database session wrote each message is recorded by a trigger."""

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection

from config.coalesced import flush_pending_requests
from crm.inboxes.adapters.email import EmailAdapter
from crm.inboxes.models import InboundReceipt, ReceiptStatus
from crm.inboxes.services.queued import drain_starting, request_drain
from crm.interactions.models import Interaction, Message
from tests.crm.factories import QueueFactory
from tests.crm.inboxes.email import corpus
from tests.crm.inboxes.factories import InboxFactory
from tests.crm.test_worker import running_worker, wait_for, worker  # noqa: F401 (the worker fixture)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CONVERSATIONS, STEPS = 40, 2  # more than a batch (25) of independent mail: work for two


@pytest.fixture(scope="module")
def worker_process(tmp_path_factory, django_db_setup, django_db_blocker):
    """The module's worker: two processes, as ``./switchboard run`` starts it."""
    yield from running_worker(tmp_path_factory, django_db_blocker, concurrency=2)


@pytest.fixture
def writers():
    """A trigger noting the backend of each message's INSERT (each worker process has a connection of its own),
    slowed a little so that one process alone could not finish a batch before the other takes the next."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE test_message_writer (pid int)")
        cursor.execute(
            "CREATE FUNCTION test_note_writer() RETURNS trigger AS $$ BEGIN"
            " INSERT INTO test_message_writer VALUES (pg_backend_pid()); PERFORM pg_sleep(0.01); RETURN NEW;"
            " END $$ LANGUAGE plpgsql"
        )
        cursor.execute(
            f"CREATE TRIGGER test_note_writer BEFORE INSERT ON {Message._meta.db_table}"
            " FOR EACH ROW EXECUTE FUNCTION test_note_writer()"
        )

    def distinct() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(DISTINCT pid) FROM test_message_writer")
            return cursor.fetchone()[0]

    yield distinct
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER IF EXISTS test_note_writer ON {Message._meta.db_table}")
        cursor.execute("DROP FUNCTION IF EXISTS test_note_writer()")
        cursor.execute("DROP TABLE IF EXISTS test_message_writer")


def test_two_worker_processes_drain_a_backlog_side_by_side_and_keep_every_conversation(
    worker,  # noqa: F811
    publish_to,
    post_mail,
    writers,
):
    inbox = InboxFactory(
        queue=QueueFactory(channels=["email"]),
        settings=EmailAdapter.validate_settings({"address": corpus.SUPPORT, "import": "queued"}),
    )
    publish_to(f"{worker.queue}-nobody")  # a backlog: the mail's own drain requests go where no worker reads
    for step in range(STEPS):  # interleaved conversations, each reply after the mail it answers
        for conversation in range(CONVERSATIONS):
            assert post_mail(inbox, corpus.conversation(conversation, step, prefix="c")).status_code == 202
    flush_pending_requests()
    redis.Redis.from_url(django_settings.CELERY_BROKER_URL).delete(f"{worker.queue}-nobody")
    publish_to(worker.queue)
    drain_starting(inbox_id=inbox.pk)  # as if that drain had started: one drain is asked for, for the backlog
    request_drain(inbox_id=inbox.pk)
    flush_pending_requests()

    wait_for(
        lambda: not InboundReceipt.objects.filter(status=ReceiptStatus.QUEUED).exists(),
        timeout=60,
        what="the worker to drain the backlog",
    )

    assert writers() == 2  # both processes imported mail
    assert set(InboundReceipt.objects.values_list("status", flat=True)) == {ReceiptStatus.IMPORTED}
    assert Interaction.objects.count() == CONVERSATIONS  # no reply started a conversation of its own
    for interaction in Interaction.objects.all():
        number = interaction.subject.split()[-1]
        bodies = list(interaction.messages.order_by("id").values_list("body", flat=True))
        assert bodies == [f"thread {number} step {step}" for step in range(STEPS)]
