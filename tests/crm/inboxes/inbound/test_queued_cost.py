"""What the queued import costs in SQL statements, counted on real commits (the after-commit work included): one
statement to accept a mail at the endpoint, and a fixed number per mail in a drained batch. A statement that comes
back (a read of the inbox or its queue per mail, a live event's read per interaction) fails here.

Issue 13's benchmark (``bench/email_accept_cpu.py`` measures the CPU of the same paths): acceptance was already one
INSERT; a drained batch read its inbox's queue, and each new interaction again for its live event (one read per mail);
now the queue comes from the cache and the live events read the batch's interactions once.
"""

import uuid

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.inboxes.adapters.email import EmailAdapter
from crm.inboxes.models import InboundReceipt, ReceiptStatus
from crm.inboxes.services.queued import drain_starting, email_accept, email_drain
from crm.inboxes.services.receipts import insert_unless_present
from crm.interactions.models import Interaction
from crm.routing.services.triggers import routing_run_starting
from tests.crm.inboxes.email import corpus
from tests.crm.inboxes.factories import InboxFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("own_cache_generation")]

# Inside the batch's transaction: BEGIN, the inbox's advisory lock, the inbox, its queued receipts (locked), COMMIT.
BATCH = 5
# A batch in which a mail answers others: one more, once for the batch — which of the mails answered are still queued
# outside it (another drainer's, to wait for; ``services.queued``).
ANSWERING = 1
# Per mail, in its savepoint: a new customer's mail — the customer found or created, the interaction, its two events
# (one INSERT), its message, the receipt's outcome (and the mail's own savepoint and release); a reply — its thread
# found and locked, its own lock, the message, the outcome (and the mail's savepoint and release). The inbox's queue
# comes from the cache. The lifecycle and the message open no savepoint of their own inside the mail's
# (``config.savepoints.whole_step``): 9 and 8 before.
PER_MAIL = {"new": 7, "reply": 6}
# After the commit (test settings: the queue figures are computed at once, in this thread): the batch's new
# interactions read once for their live events, and the figures of their queue and inbox (three statements); a
# reply to an interaction nobody holds reads nothing.
AFTER_COMMIT = {"new": 4, "reply": 0}


def _mail(n: int, *, replying_to: int | None = None) -> bytes:
    headers = {"In-Reply-To": f"<q{replying_to}@example.org>"} if replying_to is not None else {}
    return corpus.message(
        sender=f"Customer {n} <c{n}@example.org>", message_id=f"<q{n}@example.org>", headers=headers
    ).as_bytes()


@pytest.fixture
def queued(publish_to, post_mail):
    """A queued inbox whose drain requests go to a broker queue nobody reads (the test drains), warmed up: the
    per-process caches (the inbox, its queue, the webhook subscriptions) are filled by a first mail through both."""
    queue = f"test-queued-cost-{uuid.uuid4().hex[:12]}"
    publish_to(queue)
    inbox = InboxFactory(settings=EmailAdapter.validate_settings({"address": corpus.SUPPORT, "import": "queued"}))
    assert post_mail(inbox, _mail(0)).status_code == 202
    assert email_drain(inbox_id=inbox.pk) == 1
    yield inbox
    redis.Redis.from_url(django_settings.CELERY_BROKER_URL).delete(queue)
    routing_run_starting()
    drain_starting(inbox_id=inbox.pk)


def _listing(sql: list[str]) -> str:
    return f"{len(sql)} statements:\n" + "\n".join(statement[:200] for statement in sql)


def test_accepting_a_queued_mail_is_one_statement(queued, post_mail):
    with CaptureQueriesContext(connection) as captured:
        response = post_mail(queued, _mail(1))

    sql = [query["sql"] for query in captured.captured_queries]
    assert response.status_code == 202, response.content
    assert len(sql) == 1, _listing(sql)  # no read of the inbox (the cache) and no transaction around the INSERT
    assert sql[0].startswith('INSERT INTO "crm_inboundreceipt"') and "ON CONFLICT" in sql[0], _listing(sql)
    # prepared (bound server-side): the raw mail travels as binary bytes, not as a hex literal in the statement's text
    assert "$1" in sql[0] and "\\x" not in sql[0] and "c1@example.org" not in sql[0], _listing(sql)
    assert post_mail(queued, _mail(1)).status_code == 200  # a duplicate: still answered as one


def test_the_raw_bytes_are_stored_as_they_came(queued, post_mail):
    raw = _mail(7).replace(b"Hello", b"H\xe9llo \x00\xff\xfe") + b"\r\n\x00 trailing bytes \x80\x81"

    assert post_mail(queued, raw).status_code == 202

    assert bytes(InboundReceipt.objects.get(key="q7@example.org").raw) == raw


def test_the_prepared_insert_stores_every_field_as_the_orm_would(queued):
    """The receipt's INSERT binds the attributes as they are (no ``get_db_prep_save``): each column read back equals
    what Django's own ``save()`` writes for the same receipt."""
    from django.utils import timezone

    def receipt(key: str) -> InboundReceipt:
        return InboundReceipt(
            inbox=queued, key=key, status=ReceiptStatus.QUEUED, reason="", raw=b"\x00raw\xff", size=5,
            source="endpoint", sender="c9@example.org", participants=["c9@example.org", "cc@example.org"],
            received_at=timezone.now(), attempts=1,
        )  # fmt: skip

    ours, django = receipt("ours@example.org"), receipt("django@example.org")
    django.received_at = ours.received_at
    assert insert_unless_present(ours, while_token=queued.token)
    django.save()
    columns = [field.attname for field in InboundReceipt._meta.concrete_fields if not field.primary_key]
    stored = {row["key"]: row for row in InboundReceipt.objects.filter(pk__in=[ours.pk, django.pk]).values(*columns)}
    assert stored["ours@example.org"] | {"key": None} == stored["django@example.org"] | {"key": None}
    assert stored["ours@example.org"]["status"] == "queued"  # the choice's value, not the enum's name
    assert bytes(stored["ours@example.org"]["raw"]) == b"\x00raw\xff"


@pytest.mark.parametrize("case", ["new", "reply"])
def test_a_drained_mail_costs_a_fixed_number_of_statements(queued, case):
    email_accept(inbox=queued, raw=_mail(1) if case == "new" else _mail(1, replying_to=0))

    with CaptureQueriesContext(connection) as captured:
        assert email_drain(inbox_id=queued.pk) == 1

    sql = [query["sql"] for query in captured.captured_queries]
    assert sql[0] == "BEGIN" and "COMMIT" in sql, _listing(sql)
    in_transaction = sql[: sql.index("COMMIT") + 1]
    assert len(in_transaction) == BATCH + (ANSWERING if case == "reply" else 0) + PER_MAIL[case], _listing(sql)
    assert len(sql) - len(in_transaction) <= AFTER_COMMIT[case], _listing(sql)
    receipt = InboundReceipt.objects.get(key="q1@example.org")
    assert receipt.status == ReceiptStatus.IMPORTED
    assert Interaction.objects.count() == (2 if case == "new" else 1)


def test_a_batch_costs_its_fixed_statements_once_and_each_mail_its_own(queued):
    for n in range(1, 6):
        email_accept(inbox=queued, raw=_mail(n))
    for n in range(6, 9):  # replies to mails of the same batch
        email_accept(inbox=queued, raw=_mail(n, replying_to=n - 5))

    with CaptureQueriesContext(connection) as captured:
        assert email_drain(inbox_id=queued.pk) == 8

    sql = [query["sql"] for query in captured.captured_queries]
    in_transaction = sql[: sql.index("COMMIT") + 1]
    expected = BATCH + ANSWERING + 5 * PER_MAIL["new"] + 3 * PER_MAIL["reply"]
    assert len(in_transaction) == expected, _listing(sql)
    assert len(sql) - len(in_transaction) <= AFTER_COMMIT["new"], _listing(sql)  # once per batch, not per mail
    assert Interaction.objects.count() == 6
