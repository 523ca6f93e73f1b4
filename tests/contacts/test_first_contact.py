"""The customer of an inbound address, found or created in one statement, and one customer whoever races."""

import threading

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from contacts.models import ContactIdentity, Customer
from contacts.services import customer_find_or_create_by_identity

ADDRESS = "race@example.com"


@pytest.mark.django_db
def test_a_new_and_a_known_address_cost_one_statement_each():
    with CaptureQueriesContext(connection) as new:
        created, was_created = customer_find_or_create_by_identity(
            channel="email", address="Ada@Example.com", name="Ada"
        )
    with CaptureQueriesContext(connection) as known:
        found, was_found_created = customer_find_or_create_by_identity(channel="email", address=" ADA@example.com")

    assert (len(new), len(known)) == (1, 1)
    assert (was_created, was_found_created) == (True, False)
    assert found.pk == created.pk
    stored = Customer.objects.get(pk=created.pk)
    assert (stored.name, stored.email, stored.phone, stored.language, stored.tier) == (
        "Ada",
        "ada@example.com",
        "",
        "en",
        "standard",
    )
    assert (created.name, created.email, created.created_at) == (stored.name, stored.email, stored.created_at)
    assert list(stored.identities.values_list("channel", "address", "is_primary")) == [
        ("email", "ada@example.com", True)
    ]


def _waiting_on_a_lock(pid: int) -> bool:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return row is not None and row[0] == "Lock"


def _race(*, first_commits: bool):
    """The first contact inserts and holds its transaction open; the second, on another connection, really runs
    against PostgreSQL meanwhile (it waits on the unique index); then the first commits or rolls back."""
    inserted, finish = threading.Event(), threading.Event()
    outcome: dict = {}

    def first():
        try:
            with transaction.atomic():
                outcome["first"] = customer_find_or_create_by_identity(channel="email", address=ADDRESS)
                inserted.set()
                finish.wait(10)
                if not first_commits:
                    transaction.set_rollback(True)
        finally:
            connection.close()

    def second():
        try:
            inserted.wait(10)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                outcome["second_pid"] = cursor.fetchone()[0]
            outcome["second"] = customer_find_or_create_by_identity(channel="email", address=ADDRESS, name="Second")
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    assert inserted.wait(10)
    for _ in range(100):  # the second contact blocks on the first one's index entry
        if "second_pid" in outcome and _waiting_on_a_lock(outcome["second_pid"]):
            break
        threading.Event().wait(0.05)
    outcome["second_blocked"] = "second_pid" in outcome and _waiting_on_a_lock(outcome["second_pid"])
    outcome["second_done_early"] = "second" in outcome
    finish.set()
    for thread in threads:
        thread.join(20)
    return outcome


@pytest.mark.django_db(transaction=True)
def test_a_concurrent_first_contact_gets_the_winners_customer_and_leaves_no_orphan():
    outcome = _race(first_commits=True)

    assert outcome["second_blocked"] and not outcome["second_done_early"]
    winner, created = outcome["first"]
    loser, loser_created = outcome["second"]
    assert (created, loser_created) == (True, False)
    assert loser.pk == winner.pk
    assert Customer.objects.count() == 1  # the loser inserted no customer of its own
    assert ContactIdentity.objects.get().customer_id == winner.pk


@pytest.mark.django_db(transaction=True)
def test_when_the_first_contact_rolls_back_the_waiting_one_creates_the_customer():
    outcome = _race(first_commits=False)

    assert outcome["second_blocked"]
    customer, created = outcome["second"]
    assert created
    assert list(Customer.objects.values_list("pk", "name")) == [(customer.pk, "Second")]
    assert ContactIdentity.objects.get().customer_id == customer.pk
