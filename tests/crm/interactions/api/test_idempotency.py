import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from contacts.models import Customer
from crm.access.models import IdempotencyRecord
from crm.access.services.api_keys import api_key_create
from crm.access.services.idempotency import idempotency_purge_expired
from crm.interactions.models import Interaction
from crm.routing.models import Queue
from tests.agents.factories import TeamFactory, UserFactory
from tests.contacts.factories import CustomerFactory
from tests.crm.factories import QueueFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/interactions/"


@pytest.fixture
def payload():
    QueueFactory(channels=["chat"])
    return {"channel": "chat", "customer": CustomerFactory().pk, "subject": "Where is my parcel?", "body": "Hi"}


def post(client, payload, key):
    return client.post(LIST, payload, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_retry_with_the_same_key_replays_the_first_answer(write_client, payload):
    first = post(write_client, payload, "order-1")
    retry = post(write_client, dict(reversed(payload.items())), "order-1")  # key order does not matter

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Interaction.objects.count() == 1
    assert IdempotencyRecord.objects.get().owner == f"key:{write_client.api_key.pk}"


def test_the_same_key_with_another_body_is_422_and_creates_nothing(write_client, payload):
    post(write_client, payload, "order-1")

    response = post(write_client, {**payload, "subject": "Something else"}, "order-1")

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Interaction.objects.count() == 1


def test_requests_without_a_key_are_not_deduplicated(write_client, payload):
    write_client.post(LIST, payload, format="json")
    write_client.post(LIST, payload, format="json")

    assert Interaction.objects.count() == 2
    assert IdempotencyRecord.objects.count() == 0


def test_keys_belong_to_their_api_key(key_client_factory, payload):
    one, other = key_client_factory(["read", "write"]), key_client_factory(["read", "write"])

    first = post(one, payload, "shared-key")
    second = post(other, payload, "shared-key")

    assert first.json()["id"] != second.json()["id"]
    assert Interaction.objects.count() == 2


def test_a_signed_in_user_has_their_own_key_space(payload):
    # a supervisor of the queue's team (is_staff alone would grant no queue to create work in)
    client = APIClient()
    user = UserFactory(is_staff=True)
    Queue.objects.update(team=TeamFactory())
    Queue.objects.get().team.supervisors.add(user)
    client.force_login(user)

    first = post(client, payload, "k")
    again = post(client, payload, "k")

    assert first.status_code == 201, first.content
    assert first.json()["id"] == again.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert IdempotencyRecord.objects.get().owner == f"user:{user.pk}"


def test_a_failed_create_stores_nothing_so_a_corrected_retry_can_use_the_key(write_client, payload):
    bad = post(write_client, {**payload, "customer": 999999}, "k-1")
    good = post(write_client, payload, "k-1")

    assert bad.status_code == 400
    assert good.status_code == 201
    assert "Idempotent-Replayed" not in good
    assert Interaction.objects.count() == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "naïve-kéy", "tab\tkey"])
def test_an_invalid_key_is_400_and_creates_nothing(write_client, payload, key):
    response = post(write_client, payload, key)

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert Interaction.objects.count() == 0


def test_a_key_of_255_characters_is_fine(write_client, payload):
    assert post(write_client, payload, "k" * 255).status_code == 201


@override_settings(SWITCHBOARD_IDEMPOTENCY_TTL_HOURS=24)
def test_an_expired_record_is_ignored_and_replaced(write_client, payload):
    first = post(write_client, payload, "k-1")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))

    second = post(write_client, payload, "k-1")

    assert second.status_code == 201
    assert second.json()["id"] != first.json()["id"]
    assert IdempotencyRecord.objects.get().response_body["id"] == second.json()["id"]


@override_settings(SWITCHBOARD_IDEMPOTENCY_TTL_HOURS=24)
def test_purge_removes_only_expired_records(write_client, payload):
    post(write_client, payload, "old")
    post(write_client, {**payload, "subject": "new"}, "new")
    IdempotencyRecord.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))

    assert idempotency_purge_expired() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


@override_settings(SWITCHBOARD_IDEMPOTENCY_TTL_HOURS=24)
def test_beat_purges_expired_records_every_hour(write_client, payload):
    from django.conf import settings

    from config.celery import app

    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "crm.tasks.idempotency_purge_task")
    assert entry["schedule"] <= 3600
    post(write_client, payload, "old")
    IdempotencyRecord.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))

    app.tasks[entry["task"]].apply()

    assert not IdempotencyRecord.objects.filter(key="old").exists()


# --- concurrency: real connections, one per thread -----------------------------------------------------


def _thread_post(raw_key, payload, key, results, barrier=None):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    try:
        if barrier is not None:
            barrier.wait()
        response = post(client, payload, key)
        results.append((response.status_code, response.json()))
    finally:
        connections.close_all()


def _wait_until(cursor, sql, params=()):
    for _ in range(2000):
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # statistics views keep one snapshot per transaction
        cursor.execute(sql, params)
        if cursor.fetchone()[0]:
            return
        threading.Event().wait(0.01)
    raise AssertionError(f"never true: {sql}")


@pytest.mark.django_db(transaction=True)
def test_a_retry_while_the_first_request_runs_is_409_and_one_interaction_is_made():
    QueueFactory(channels=["chat"])
    payload = {"channel": "chat", "customer": CustomerFactory().pk, "body": "Hi"}
    _, raw_key = api_key_create(name="concurrent", scopes=["read", "write"])
    first_results, second_results = [], []

    # Hold the first request inside its transaction: it takes the idempotency lock, then waits to insert.
    with connection.cursor() as blocker:
        blocker.execute("BEGIN")
        blocker.execute("LOCK TABLE crm_interaction IN SHARE MODE")
        first = threading.Thread(target=_thread_post, args=(raw_key, payload, "dup", first_results))
        first.start()
        try:
            _wait_until(
                blocker,
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
            )
            second = threading.Thread(target=_thread_post, args=(raw_key, payload, "dup", second_results))
            second.start()
            second.join(timeout=30)
        finally:
            blocker.execute("COMMIT")
    first.join(timeout=30)

    assert second_results[0][0] == 409
    assert second_results[0][1]["detail"] == "A request with this Idempotency-Key is still in progress."
    assert first_results[0][0] == 201
    assert Interaction.objects.count() == 1
    assert Customer.objects.count() == 1

    replay = []
    _thread_post(raw_key, payload, "dup", replay)
    assert replay[0] == (201, first_results[0][1])


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_requests_with_one_key_create_one_interaction():
    QueueFactory(channels=["chat"])
    payload = {"channel": "chat", "customer_identity": {"address": "race@example.com"}, "body": "Hi"}
    _, raw_key = api_key_create(name="race", scopes=["read", "write"])
    results: list = []
    barrier = threading.Barrier(2)

    threads = [
        threading.Thread(target=_thread_post, args=(raw_key, payload, "race-key", results, barrier)) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    statuses = sorted(status for status, _ in results)
    assert statuses in ([201, 201], [201, 409])
    created_ids = {body["id"] for status, body in results if status == 201}
    assert len(created_ids) == 1
    assert Interaction.objects.count() == 1
    assert Customer.objects.count() == 1
