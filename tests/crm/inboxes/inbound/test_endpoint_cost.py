"""What one inbound mail costs the endpoint in SQL statements, counted on real requests (real commits, the after
commit work included), and the per-process inbox cache that saves one of them: a change to the inbox still takes
effect at once, in every process.

Issue 13's benchmark: before, 19 statements for a mail from a new customer and 20 for a known one (test settings,
queue figures computed in the request). The inbox is now read from the per-process cache, the receipt is claimed by
one ``INSERT … ON CONFLICT DO NOTHING`` (no savepoint around it), the new interaction's first message is not read
back, and a reply's thread is looked up and locked in one statement.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.inboxes.models import InboundReceipt
from crm.inboxes.services.inboxes import inbox_rotate_token, inbox_update
from crm.interactions.models import Interaction
from tests.crm.inboxes.email import corpus

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("own_cache_generation")]

# Inside the import's transaction (BEGIN … COMMIT): the receipt's claim, the customer find-or-create, the
# interaction, its log events, its message, the receipt's outcome. A known customer adds the lifecycle's follow-up
# lookup. A reply: the claim, the thread found and locked, the message's own lock and INSERT, the outcome. The
# lifecycle and the message open no savepoint inside the import's transaction (``config.savepoints.whole_step``):
# 10, 11 and 9 before.
IN_TRANSACTION = {"new": 8, "known": 9, "reply": 7}
# The whole request, after-commit work included (test settings: the queue figures are computed in the request).
REQUEST_BUDGET = {"new": 13, "known": 14, "reply": 7}


def _mail(n: int, sender: str, *, replying_to: int | None = None) -> bytes:
    thread = f"In-Reply-To: <m{replying_to}@example.org>\r\nReferences: <m{replying_to}@example.org>\r\n"
    return (
        f"From: {sender}\r\nTo: {corpus.SUPPORT}\r\nSubject: Order {n}\r\nMessage-ID: <m{n}@example.org>\r\n"
        f"{thread if replying_to is not None else ''}Date: Fri, 04 Dec 2026 06:00:00 +0000\r\n\r\n"
        f"Where is order {n}?\r\n"
    ).encode()


def _statements(send):
    with CaptureQueriesContext(connection) as captured:
        response = send()
    return response, [query["sql"] for query in captured.captured_queries]


def test_an_inbound_mail_costs_a_fixed_number_of_statements(inbox, post_mail):
    assert post_mail(inbox, _mail(0, "warm@example.org")).status_code == 201  # fills the per-process caches

    for case, mail in (
        ("new", _mail(1, "Bob <bob@example.org>")),
        ("known", _mail(2, "Bob <bob@example.org>")),
        ("reply", _mail(3, "Bob <bob@example.org>", replying_to=2)),
    ):
        response, sql = _statements(lambda mail=mail: post_mail(inbox, mail))
        assert response.status_code == 201, response.content
        listing = f"{case}: {len(sql)} statements\n" + "\n".join(sql)
        assert len(sql) <= REQUEST_BUDGET[case], listing
        assert sql.index("BEGIN") == 0, listing  # nothing before the import: the inbox came from the cache
        transaction = sql[: sql.index("COMMIT") + 1]
        assert len(transaction) <= IN_TRANSACTION[case], listing
        assert not any(q.startswith("SAVEPOINT") for q in transaction), listing
        receipt_statements = [q for q in transaction if '"crm_inboundreceipt"' in q]
        assert [q.split()[0] for q in receipt_statements] == ["INSERT", "UPDATE"], listing
        assert "ON CONFLICT" in receipt_statements[0] and not transaction[2].startswith("RELEASE"), listing
        assert not any(q.startswith('SELECT "crm_message"') for q in sql), listing  # nothing read back

    replied = Interaction.objects.get(messages__external_id="m2@example.org")
    assert list(replied.messages.values_list("external_id", flat=True).order_by("id")) == [
        "m2@example.org",
        "m3@example.org",
    ]
    assert response.json()["interaction"] == replied.pk
    assert Interaction.objects.filter(customer__email="bob@example.org").count() == 2


def test_a_deactivated_inbox_stops_taking_mail_at_once(inbox, post_mail):
    assert post_mail(inbox, corpus.message(message_id="<one@example.org>").as_bytes()).status_code == 201

    inbox_update(inbox=inbox, data={"is_active": False})

    assert post_mail(inbox, corpus.message(message_id="<two@example.org>").as_bytes()).status_code == 404
    inbox_update(inbox=inbox, data={"is_active": True})
    assert post_mail(inbox, corpus.message(message_id="<three@example.org>").as_bytes()).status_code == 201
    assert sorted(InboundReceipt.objects.values_list("key", flat=True)) == ["one@example.org", "three@example.org"]


def test_a_replaced_token_stops_at_once_and_the_new_one_works(inbox, post_mail):
    old = inbox.token
    assert post_mail(inbox, corpus.message(message_id="<one@example.org>").as_bytes()).status_code == 201

    inbox = inbox_rotate_token(inbox=inbox)
    stale = type(inbox)(pk=inbox.pk, token=old)

    assert post_mail(stale, corpus.message(message_id="<two@example.org>").as_bytes()).status_code == 404
    assert post_mail(inbox, corpus.message(message_id="<three@example.org>").as_bytes()).status_code == 201


def test_new_settings_apply_to_the_next_mail(inbox, post_mail):
    mail = corpus.message(message_id="<one@example.org>", sender="Ops <ops@example.org>").as_bytes()
    assert post_mail(inbox, corpus.message(message_id="<zero@example.org>").as_bytes()).status_code == 201

    # the inbox's own address is now the sender's: their mail is a loop, recorded and answered by nothing
    inbox_update(inbox=inbox, data={"settings": {"address": "ops@example.org"}})

    assert post_mail(inbox, mail).json()["status"] == "noise"
