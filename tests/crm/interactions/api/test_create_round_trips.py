"""What one create costs in SQL statements, counted on the requests as a server runs them (real commits, the after
commit work included), so that the count cannot grow unnoticed.

Measured on one process with warm caches (issue 15, item 2), the test settings' queue figures computed at once in
the request (production defers them to a coalescing flusher). Before the identity upsert and the per-process caches:
API create 18 statements with a new customer, 15 with a known one; inbound e-mail 27 and 24. After: 10 and 11;
19 and 20. Inside the create's transaction (BEGIN … COMMIT): API 6 and 7. The audit log of every API write (issue
16) then added two INSERTs to the API create: 12 and 13, 8 and 9 inside the transaction. Written as one INSERT at
the end of the create's transaction (``config.audit.audit_batched``): 11 and 12, 7 and 8.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.inboxes.adapters.email import EmailAdapter
from crm.interactions.models import Interaction
from tests.agents.factories import TeamFactory
from tests.crm.factories import QueueFactory, SLATargetFactory, WebhookFactory
from tests.crm.inboxes.email import corpus
from tests.crm.inboxes.factories import InboxFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("own_cache_generation")]

LIST = "/api/v1/interactions/"
# The statements left in the API create's transaction: BEGIN, the customer find-or-create (one statement), the
# follow-up lookup of a known customer, the interaction, its two log events (one INSERT), its first message, the
# audit log's two rows in one INSERT (the interaction and the message an API key wrote: config.audit), COMMIT.
# After the commit, in the request: the widget's and the live event's reads (once for both changes, announced as
# one batch) and the queue figures. No API key,
# queue, SLA target or webhook subscription lookup: those come from the per-process caches (config.rowcache).
API_CREATE_TRANSACTION = {"new": 7, "existing": 8}
API_CREATE_BUDGET = {"new": 11, "existing": 12}
EMAIL_BUDGET = {"new": 15, "existing": 16}  # 19 and 20 before issue 13's e-mail work (tests/crm/inboxes)


@pytest.fixture
def center(db):
    team = TeamFactory()
    queue = QueueFactory(team=team, channels=["chat", "email"], priority=5)
    queue.sla_policy = SLATargetFactory(channel="chat", first_response_seconds=120).policy
    queue.save(update_fields=["sla_policy"])
    WebhookFactory(events=["survey.answered"])  # looked up on every create, hears none of them
    return queue


def statements(send) -> tuple[int, object, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = send()
    return len(captured.captured_queries), response, [q["sql"] for q in captured.captured_queries]


def test_an_api_create_costs_a_fixed_number_of_statements(write_client, center):
    def create(address):
        body = {"channel": "chat", "customer_identity": {"address": address, "channel": "email"}, "body": "Hi"}
        return write_client.post(LIST, body, format="json")

    assert create("warm@example.com").status_code == 201  # fills the caches and the key's last-used stamp

    for case, address in (("new", "ada@example.com"), ("existing", "ada@example.com")):
        count, response, sql = statements(lambda address=address: create(address))
        assert response.status_code == 201, response.content
        assert count <= API_CREATE_BUDGET[case], f"{case}: {count} statements\n" + "\n".join(sql)
        transaction = sql[sql.index("BEGIN") : sql.index("COMMIT") + 1]
        assert len(transaction) == API_CREATE_TRANSACTION[case], "\n".join(transaction)
        assert not any(table in " ".join(sql) for table in ('"crm_apikey"', '"crm_queue"."name"', "crm_slatarget"))
    assert Interaction.objects.filter(customer__email="ada@example.com").count() == 2


def test_an_inbound_email_costs_a_fixed_number_of_statements(client, center, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    inbox = InboxFactory(
        name="Acme support",
        queue=center,
        settings=EmailAdapter.validate_settings({"address": corpus.SUPPORT, "message_id_domain": "ours.test"}),
    )
    url = reverse("inboxes:email-inbound", args=[inbox.token])

    def mail(n, sender):
        raw = (
            f"From: {sender}\r\nTo: {corpus.SUPPORT}\r\nSubject: Order {n}\r\nMessage-ID: <m{n}@example.org>\r\n"
            f"Date: Fri, 04 Dec 2026 06:00:00 +0000\r\n\r\nWhere is order {n}?\r\n"
        ).encode()
        return client.generic("POST", url, raw, content_type="message/rfc822")

    assert mail(0, "warm@example.org").status_code == 201

    for n, case in ((1, "new"), (2, "existing")):
        count, response, sql = statements(lambda n=n: mail(n, "Bob <bob@example.org>"))
        assert response.status_code == 201, response.content
        assert count <= EMAIL_BUDGET[case], f"{case}: {count} statements\n" + "\n".join(sql)
    assert Interaction.objects.filter(customer__email="bob@example.org").count() == 2
