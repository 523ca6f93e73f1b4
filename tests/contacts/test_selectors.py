from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from contacts.models import Customer
from contacts.selectors import customer_get, customer_list, organization_list
from contacts.services import customer_create, organization_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def directory():
    acme = organization_create(name="Acme", domain="acme.example.com")
    return {
        "ada": customer_create(
            name="Ada Lovelace",
            email="ada@analytical.org",
            phone="+14155552671",
            organization=acme,
            tier="gold",
            tags=["vip"],
            language="en-GB",
            identities=[
                {"channel": "email", "address": "countess@example.com"},
                {"channel": "social", "address": "@ada"},
            ],
        ),
        "grace": customer_create(name="Grace Hopper", email="grace@navy.mil", phone="+442079460958", language="en"),
        "alan": customer_create(name="Alan Turing", email="alan@bletchley.uk", tags=["b2b"], language="fr"),
        "acme": acme,
    }


def _names(queryset):
    return sorted(customer.name for customer in queryset)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("lovelace", ["Ada Lovelace"]),
        ("GRACE", ["Grace Hopper"]),
        ("an", ["Alan Turing", "Ada Lovelace"]),
        ("navy.MIL", ["Grace Hopper"]),
        ("4155552671", ["Ada Lovelace"]),
        ("(415) 555-2671", ["Ada Lovelace"]),
        ("555-2671", ["Ada Lovelace"]),
        ("+44 20 7946 0958", ["Grace Hopper"]),
        ("Countess@Example.com", ["Ada Lovelace"]),
        ("@ada", ["Ada Lovelace"]),
        ("nobody", []),
        ("%", []),
        ("_", []),
    ],
)
def test_search_matches_name_email_phone_and_addresses(directory, q, expected):
    assert _names(customer_list(q=q)) == sorted(expected)


def test_empty_search_lists_everyone_newest_first(directory):
    assert [c.pk for c in customer_list(q="  ")] == [directory["alan"].pk, directory["grace"].pk, directory["ada"].pk]


def test_filters_narrow_the_list(directory):
    now = timezone.now()
    assert _names(customer_list(organization_id=directory["acme"].pk)) == ["Ada Lovelace"]
    assert _names(customer_list(tier="gold")) == ["Ada Lovelace"]
    assert _names(customer_list(tag="b2b")) == ["Alan Turing"]
    assert _names(customer_list(language="EN")) == ["Grace Hopper"]
    assert _names(customer_list(created_after=now + timedelta(minutes=1))) == []
    assert len(customer_list(created_before=now + timedelta(minutes=1))) == 3


def test_customer_list_prefetches_identities(directory, django_assert_num_queries):
    with django_assert_num_queries(2):
        identities = {c.name: [i.address for i in c.identities.all()] for c in customer_list()}
    assert identities["Ada Lovelace"] == ["ada@analytical.org", "countess@example.com", "+14155552671", "@ada"]


def test_customer_get_returns_none_for_unknown_id():
    assert customer_get(customer_id=123456) is None


def test_organization_list_counts_customers_and_searches_domain(directory):
    organization_create(name="Globex", domain="globex.example.com")
    counts = {o.name: o.customer_count for o in organization_list()}
    assert counts == {"Acme": 1, "Globex": 0}
    assert [o.name for o in organization_list(q="GLOBEX.example")] == ["Globex"]


def test_search_is_served_by_the_trigram_index(directory):
    # The ILIKE the selector emits is what the pg_trgm GIN indexes serve (Django's icontains is not).
    Customer.objects.bulk_create(Customer(name=f"Filler {n}") for n in range(200))
    queryset = customer_list(q="lovelace@").order_by().values("id")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = queryset.explain()
    assert "customer_name_trgm" in plan
    assert "customer_email_trgm" in plan
