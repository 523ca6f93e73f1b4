"""Erase: no trace of the customer in any text/JSON/bytes column, the KPI report unchanged, resumable, idempotent,
refused under legal hold, and a late inbound message from the same address starts a fresh customer."""

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone
from psycopg import sql

from contacts.models import ContactIdentity, Customer
from crm.interactions import services as lifecycle
from crm.interactions.models import Interaction
from crm.privacy.models import ErasureRequest
from crm.privacy.services.erase import STEPS, erasure_due, erasure_run
from crm.privacy.tasks import erasure_run_task
from tests.crm.factories import WebhookDeliveryFactory

from .conftest import BODY, EMAIL, VALUES

pytestmark = pytest.mark.django_db
KPIS = "/api/v1/reports/kpis/"


def _traces(values) -> list[str]:
    """Every (table.column, value) where a text, character, array, JSON or bytes column holds one of ``values``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN "
            "('text', 'character varying', 'json', 'jsonb', 'ARRAY', 'bytea')"
        )
        columns = cursor.fetchall()
        found = []
        for table, column, kind in columns:
            shape = "convert_from({}, 'UTF8')" if kind == "bytea" else "{}::text"
            text = sql.SQL(shape).format(sql.Identifier(column))
            query = sql.SQL("SELECT 1 FROM {} WHERE strpos({}, %s) > 0 LIMIT 1").format(sql.Identifier(table), text)
            for value in values:
                cursor.execute(query, [value])
                if cursor.fetchone():
                    found.append(f"{table}.{column}: {value}")
    return found


def _kpis(client):
    today = timezone.now().date()
    day = {"from": today.isoformat(), "to": (today + timezone.timedelta(days=1)).isoformat(), "tz": "UTC"}
    response = client.get(KPIS, {**day, "group_by": "channel"})
    assert response.status_code == 200
    return response.json()["rows"]


def test_erase_leaves_no_trace_and_the_report_unchanged(history, admin_client_api, read_client):
    customer = history["customer"]
    WebhookDeliveryFactory(payload={"data": {"customer": {"id": customer.pk, "email": EMAIL}}})
    before = _kpis(read_client)
    assert _traces(VALUES)  # the scan sees them before
    assert any(row["handled"] for row in before)

    response = admin_client_api.post(
        f"/api/v1/customers/{customer.pk}/erase/", {"reason": "asked by e-mail", "immediately": True}, format="json"
    )
    assert response.status_code == 202, response.content
    assert erasure_run_task(response.json()["id"]) == "done"

    assert _traces(VALUES) == []
    assert _kpis(read_client) == before
    work = Interaction.objects.get(pk=history["interaction"].pk)
    assert (work.status, work.disposition, work.queue_id) == ("resolved", "solved", history["queue"].pk)
    assert work.resolved_at is not None and work.messages.count() == 2
    assert not default_storage.exists(history["path"])
    erased = Customer.objects.get(pk=customer.pk)
    assert erased.name == f"Erased customer {customer.pk}" and erased.erased_at is not None
    erasure = ErasureRequest.objects.get()
    assert erasure.status == "done" and erasure.steps_done == [name for name, _ in STEPS]
    assert erasure.reason == "asked by e-mail"


def test_erase_resumes_after_an_interrupted_run_and_a_rerun_changes_nothing(history):
    from crm.privacy.services.erase import erasure_request

    customer = history["customer"]
    erasure = erasure_request(customer=customer, reason="request", immediately=True)
    assert erasure_run(erasure_id=erasure.pk, max_steps=8) == "partial"  # the worker died after 8 steps
    erasure.refresh_from_db()
    assert erasure.status == "running" and len(erasure.steps_done) == 8
    assert Customer.objects.get(pk=customer.pk).name == customer.name  # the profile is not reached yet
    assert _traces([BODY]) == []  # but the bodies are gone, everywhere

    assert erasure_due() == 1  # the beat's sweep picks up the interrupted request
    erasure.refresh_from_db()
    assert erasure.status == "done" and erasure.steps_done == [name for name, _ in STEPS]
    assert _traces(VALUES) == []
    counts = dict(erasure.counts)
    assert erasure_run(erasure_id=erasure.pk) == "skipped"
    erasure.refresh_from_db()
    assert erasure.counts == counts


def test_legal_hold_refuses_and_says_so(history, admin_client_api):
    customer = history["customer"]
    Customer.objects.filter(pk=customer.pk).update(legal_hold=True)
    response = admin_client_api.post(
        f"/api/v1/customers/{customer.pk}/erase/", {"reason": "asked", "immediately": True}, format="json"
    )
    assert response.status_code == 409
    assert "legal hold" in response.json()["detail"]
    assert ErasureRequest.objects.get().status == "refused"
    assert Customer.objects.get(pk=customer.pk).email == EMAIL


def test_a_hold_placed_during_the_grace_period_stops_the_erasure(history, admin_client_api):
    customer = history["customer"]
    response = admin_client_api.post(f"/api/v1/customers/{customer.pk}/erase/", {"reason": "asked"}, format="json")
    assert response.status_code == 202 and response.json()["immediately"] is False
    assert erasure_due() == 0  # still within the grace period
    Customer.objects.filter(pk=customer.pk).update(legal_hold=True)
    assert erasure_due(now=timezone.now() + timezone.timedelta(days=30)) == 1
    assert ErasureRequest.objects.get().status == "refused"
    assert Customer.objects.get(pk=customer.pk).email == EMAIL


def test_bad_input_is_a_400_and_writes_nothing(history, admin_client_api):
    customer = history["customer"]
    for body in ({}, {"reason": ""}, {"reason": "x", "immediately": "maybe"}):
        response = admin_client_api.post(f"/api/v1/customers/{customer.pk}/erase/", body, format="json")
        assert response.status_code == 400
    assert not ErasureRequest.objects.exists()


def test_a_late_message_from_the_erased_address_starts_a_fresh_customer(history):
    from crm.privacy.services.erase import erasure_request

    customer = history["customer"]
    erasure_run(erasure_id=erasure_request(customer=customer, reason="asked", immediately=True).pk)
    late = lifecycle.interaction_create_inbound(
        channel="email", customer_identity={"address": EMAIL, "name": "Zelda"}, body="me again"
    )
    assert late.customer_id != customer.pk
    assert ContactIdentity.objects.get(address=EMAIL).customer_id == late.customer_id
    assert Interaction.objects.filter(customer=customer).count() == 1
