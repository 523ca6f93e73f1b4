"""The audit entries of one create are written together (``config.audit.audit_batched``): one INSERT for the
interaction's and its first message's entries, each with every field an entry written alone has, and none at all
when the create fails."""

import json
from datetime import UTC, datetime

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from agents.models import AuditEntry
from config.audit import audit_batched, audit_context
from crm.choices import InteractionStatus, Priority
from tests.crm.factories import QueueFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/interactions/"


def create(client, **extra):
    body = {"channel": "chat", "customer_identity": {"address": "ada@example.com"}, "body": "Hello", **extra}
    return client.post(LIST, body, format="json", REMOTE_ADDR="203.0.113.7")


def test_an_api_create_writes_its_entries_in_one_insert_with_every_field(write_client):
    queue = QueueFactory(channels=["chat"])
    with CaptureQueriesContext(connection) as captured:
        response = create(write_client, queue=queue.pk)
    assert response.status_code == 201, response.content
    inserts = [q["sql"] for q in captured.captured_queries if q["sql"].startswith('INSERT INTO "agents_auditentry"')]
    assert len(inserts) == 1

    interaction_entry, message_entry = AuditEntry.objects.order_by("id")
    assert interaction_entry.content_type.model == "interaction" and message_entry.content_type.model == "message"
    assert interaction_entry.object_id == str(response.json()["id"])
    for entry in (interaction_entry, message_entry):
        assert entry.action == "create" and entry.source == "api"
        assert entry.actor_api_key_id == write_client.api_key.pk and entry.actor.startswith("API key")
        assert entry.client_ip == "203.0.113.7"
        assert entry.team_id == queue.team_id
    assert interaction_entry.changes["status"] == [None, "queued"]
    assert message_entry.changes["body"] == "changed"
    assert interaction_entry.at <= message_entry.at  # each keeps the time it was recorded


def test_a_create_refused_after_its_first_write_leaves_no_entry(write_client):
    queue = QueueFactory(channels=["chat"])
    assert create(write_client, queue=queue.pk, external_id="X-1").status_code == 201
    before = AuditEntry.objects.count()
    response = create(write_client, queue=queue.pk, external_id="X-1")  # the customer is found, the INSERT clashes
    assert response.status_code == 400 and "external_id" in response.json()
    assert AuditEntry.objects.count() == before


def test_outside_an_audit_context_a_batch_records_nothing_and_inside_one_it_writes_at_the_end(write_client):
    from contacts.models import Customer

    with audit_batched():
        Customer.objects.create(name="Nobody acting")
    assert not AuditEntry.objects.exists()

    with transaction.atomic(), audit_context(source="command", actor="test"):
        with audit_batched():
            with audit_batched():  # nested: the outer block writes
                Customer.objects.create(name="One")
                Customer.objects.create(name="Two")
            assert not AuditEntry.objects.exists()
        assert list(AuditEntry.objects.order_by("id").values_list("actor", "action")) == [("test", "create")] * 2


@pytest.mark.parametrize(
    "value",
    [
        "text",
        3,
        True,
        None,
        2.5,
        InteractionStatus.QUEUED,
        Priority.HIGH,
        [1, "a"],
        {"k": 1},
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    ],
)
def test_a_recorded_value_is_what_its_json_round_trip_gives(value):
    from config.audit.recorder import _plain

    plain = _plain(value)
    expected = json.loads(json.dumps(value, cls=DjangoJSONEncoder))
    assert plain == expected and type(plain) is type(expected)
