import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from config.errors import DomainError
from contacts.models import ContactIdentity, Customer, Note, Organization
from contacts.services import (
    customer_create,
    customer_delete,
    customer_find_or_create_by_identity,
    customer_update,
    identity_add,
    identity_remove,
    identity_update,
    normalize_address,
    note_create,
    organization_create,
    organization_delete,
    organization_update,
)
from tests.agents.factories import UserFactory
from tests.contacts.factories import IdentifiedCustomerFactory, OrganizationFactory
from tests.crm.factories import InteractionFactory

pytestmark = pytest.mark.django_db


def _identities(customer):
    return sorted(customer.identities.values_list("channel", "address", "is_primary"))


# --- normalisation ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "address", "expected"),
    [
        ("email", "Foo@Example.COM", "foo@example.com"),
        ("email", "  foo@example.com ", "foo@example.com"),
        ("phone", "(415) 555-2671", "+14155552671"),
        ("phone", "+44 20 7946 0958", "+442079460958"),
        ("voice", "415.555.2671", "+14155552671"),
        ("sms", "+1 415 555 2671", "+14155552671"),
        ("web", "Foo@Example.com", "foo@example.com"),
        ("social", "  @Ada ", "@Ada"),
    ],
)
def test_normalize_address_stores_one_form_per_address(channel, address, expected):
    assert normalize_address(channel=channel, address=address) == expected


@pytest.mark.parametrize(
    ("channel", "address"),
    [
        ("email", "not-an-email"),
        ("email", "a@b"),
        ("email", ""),
        ("phone", "12"),
        ("phone", "call me"),
        ("phone", "+1 555 000 0000"),
        ("chat", "   "),
        ("chat", "x" * 255),
        ("chat", "nul\x00byte"),
    ],
)
def test_normalize_address_rejects_bad_addresses(channel, address):
    with pytest.raises(ValidationError) as error:
        normalize_address(channel=channel, address=address)
    assert "address" in error.value.message_dict


def test_normalize_address_rejects_unknown_channel():
    with pytest.raises(ValidationError) as error:
        normalize_address(channel="pigeon", address="x")
    assert "channel" in error.value.message_dict


# --- find or create --------------------------------------------------------------------------------------------


def test_find_or_create_finds_the_owner_of_an_address_written_differently():
    customer = customer_create(name="Ada", phone="+1 415 555 2671")
    found, created = customer_find_or_create_by_identity(channel="voice", address="(415) 555-2671")
    assert (found.pk, created) == (customer.pk, False)


def test_find_or_create_creates_a_customer_with_a_primary_identity():
    customer, created = customer_find_or_create_by_identity(channel="email", address="New@Example.com", name="New")
    assert created
    assert customer.email == "new@example.com"
    assert _identities(customer) == [("email", "new@example.com", True)]


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_contacts_from_one_address_make_one_customer():
    threads_count = 6
    barrier = threading.Barrier(threads_count)
    results, errors = [], []

    def first_contact():
        try:
            barrier.wait(timeout=10)
            results.append(customer_find_or_create_by_identity(channel="sms", address="(415) 555-2671"))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first_contact) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert Customer.objects.count() == 1
    assert {customer.pk for customer, _ in results} == {Customer.objects.get().pk}
    assert sum(created for _, created in results) == 1
    assert ContactIdentity.objects.get().address == "+14155552671"


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_with_one_email_leave_one_owner():
    threads_count = 4
    barrier = threading.Barrier(threads_count)
    outcomes = []

    def create(n):
        try:
            barrier.wait(timeout=10)
            customer_create(name=f"Twin {n}", email="twin@example.com")
            outcomes.append("created")
        except ValidationError as exc:
            outcomes.append(sorted(exc.message_dict))
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert outcomes.count("created") == 1
    assert outcomes.count(["email"]) == threads_count - 1
    assert Customer.objects.count() == 1
    assert ContactIdentity.objects.filter(address="twin@example.com").count() == 1


# --- customer_create -------------------------------------------------------------------------------------------


def test_create_normalises_primary_addresses_into_identities():
    organization = OrganizationFactory()
    customer = customer_create(
        name="  Ada Lovelace ",
        email="Ada@Example.COM",
        phone="(415) 555-2671",
        organization=organization,
        language="pt_br",
        timezone="Europe/Lisbon",
        tier="gold",
        tags=["vip", " vip ", "", "b2b"],
        attributes={"plan": "pro"},
        identities=[{"channel": "social", "address": "@ada", "verified": True}],
    )
    customer.refresh_from_db()
    assert (customer.name, customer.email, customer.phone) == ("Ada Lovelace", "ada@example.com", "+14155552671")
    assert (customer.language, customer.tags, customer.organization) == ("pt-BR", ["vip", "b2b"], organization)
    assert _identities(customer) == [
        ("email", "ada@example.com", True),
        ("phone", "+14155552671", True),
        ("social", "@ada", False),
    ]
    assert customer.identities.get(channel="social").verified


def test_create_makes_the_first_listed_email_primary_when_no_email_given():
    customer = customer_create(
        name="Ada",
        identities=[{"channel": "email", "address": "One@example.com"}, {"channel": "email", "address": "two@x.org"}],
    )
    assert customer.email == "one@example.com"
    assert _identities(customer) == [("email", "one@example.com", True), ("email", "two@x.org", False)]


def test_create_rejects_an_address_owned_by_another_customer_on_its_field():
    IdentifiedCustomerFactory(email="taken@example.com")
    customer_create(name="Owner", phone="+14155552671", identities=[{"channel": "chat", "address": "v1"}])
    before = Customer.objects.count()
    with pytest.raises(ValidationError) as error:
        customer_create(
            name="Copycat",
            email="TAKEN@example.com",
            phone="415-555-2671",
            identities=[{"channel": "chat", "address": "v1"}],
        )
    assert set(error.value.message_dict) == {"email", "phone", "identities"}
    assert Customer.objects.count() == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "   "),
        ("name", "x" * 201),
        ("email", "nope"),
        ("phone", "123"),
        ("language", "english"),
        ("language", "e"),
        ("timezone", "Mars/Olympus"),
        ("timezone", "utc"),
        ("tier", "platinum"),
        ("tags", ["x" * 51]),
        ("tags", [f"t{n}" for n in range(51)]),
        ("tags", [None]),
        ("tags", "vip"),
        ("attributes", ["not", "an", "object"]),
        ("attributes", {"blob": "x" * (16 * 1024)}),
        ("attributes", {"nul": "a\x00b"}),
        ("identities", [{"channel": "pigeon", "address": "x"}]),
        ("identities", [{"channel": "email", "address": "bad"}]),
    ],
)
def test_create_rejects_bad_values_and_writes_nothing(field, value):
    kwargs = {"name": "Ada", field: value}
    with pytest.raises(ValidationError) as error:
        customer_create(**kwargs)
    assert field in error.value.message_dict
    assert Customer.objects.count() == 0
    assert ContactIdentity.objects.count() == 0


def test_create_reports_every_bad_field_at_once():
    with pytest.raises(ValidationError) as error:
        customer_create(name="", email="bad", language="??", timezone="Nowhere")
    assert set(error.value.message_dict) == {"name", "email", "language", "timezone"}


# --- customer_update -------------------------------------------------------------------------------------------


def test_update_changes_only_given_fields():
    customer = customer_create(name="Ada", email="ada@example.com", tags=["a"])
    customer_update(customer=customer, tier="vip", survey_opt_out=True)
    customer.refresh_from_db()
    assert (customer.tier, customer.survey_opt_out, customer.tags, customer.name) == ("vip", True, ["a"], "Ada")


def test_update_new_email_becomes_primary_and_old_one_stays_secondary():
    customer = customer_create(name="Ada", email="old@example.com")
    customer_update(customer=customer, email="New@Example.com")
    customer.refresh_from_db()
    assert customer.email == "new@example.com"
    assert _identities(customer) == [("email", "new@example.com", True), ("email", "old@example.com", False)]
    found, _ = customer_find_or_create_by_identity(channel="email", address="old@example.com")
    assert found.pk == customer.pk


def test_update_to_an_existing_secondary_address_promotes_it():
    customer = customer_create(
        name="Ada", email="one@example.com", identities=[{"channel": "email", "address": "two@example.com"}]
    )
    customer_update(customer=customer, email="two@example.com")
    assert _identities(customer) == [("email", "one@example.com", False), ("email", "two@example.com", True)]


def test_update_clearing_phone_leaves_no_primary_phone():
    customer = customer_create(name="Ada", phone="+14155552671")
    customer_update(customer=customer, phone="")
    customer.refresh_from_db()
    assert customer.phone == ""
    assert _identities(customer) == [("phone", "+14155552671", False)]


def test_update_rejects_email_of_another_customer_and_changes_nothing():
    IdentifiedCustomerFactory(email="taken@example.com")
    customer = customer_create(name="Ada", email="ada@example.com")
    with pytest.raises(ValidationError) as error:
        customer_update(customer=customer, email="taken@example.com", name="Changed")
    assert "email" in error.value.message_dict
    customer.refresh_from_db()
    assert (customer.email, customer.name) == ("ada@example.com", "Ada")
    assert _identities(customer) == [("email", "ada@example.com", True)]


def test_update_refuses_unknown_fields():
    customer = customer_create(name="Ada")
    with pytest.raises(TypeError):
        customer_update(customer=customer, created_at=None)


# --- customer_delete -------------------------------------------------------------------------------------------


def test_delete_removes_customer_identities_and_notes():
    customer = customer_create(name="Ada", email="ada@example.com")
    note_create(customer=customer, author=None, body="called")
    customer_delete(customer=customer)
    assert (Customer.objects.count(), ContactIdentity.objects.count(), Note.objects.count()) == (0, 0, 0)


def test_delete_is_refused_while_the_customer_has_interactions():
    customer = customer_create(name="Ada", email="ada@example.com")
    InteractionFactory(customer=customer)
    with pytest.raises(DomainError, match="interactions"):
        customer_delete(customer=customer)
    assert Customer.objects.filter(pk=customer.pk).exists()
    assert ContactIdentity.objects.filter(customer=customer).count() == 1


# --- identities ------------------------------------------------------------------------------------------------


def test_identity_add_first_phone_becomes_primary_and_the_customer_phone():
    customer = customer_create(name="Ada", email="ada@example.com")
    identity = identity_add(customer=customer, channel="sms", address="(415) 555-2671", verified=True)
    customer.refresh_from_db()
    assert (identity.channel, identity.address, identity.is_primary, identity.verified) == (
        "phone",
        "+14155552671",
        True,
        True,
    )
    assert customer.phone == "+14155552671"


def test_identity_add_second_email_is_secondary():
    customer = customer_create(name="Ada", email="ada@example.com")
    identity = identity_add(customer=customer, channel="email", address="work@example.com")
    customer.refresh_from_db()
    assert not identity.is_primary
    assert customer.email == "ada@example.com"


@pytest.mark.parametrize("owner", ["same", "other"])
def test_identity_add_rejects_an_address_already_known(owner):
    customer = customer_create(name="Ada", email="ada@example.com")
    other = customer_create(name="Bob", email="bob@example.com")
    address = "ADA@example.com" if owner == "same" else "bob@example.com"
    with pytest.raises(ValidationError) as error:
        identity_add(customer=customer, channel="email", address=address)
    assert "address" in error.value.message_dict
    assert ContactIdentity.objects.filter(customer__in=[customer, other]).count() == 2


def test_identity_remove_primary_promotes_the_oldest_other_address():
    customer = customer_create(name="Ada", email="one@example.com")
    identity_add(customer=customer, channel="email", address="two@example.com")
    identity_add(customer=customer, channel="email", address="three@example.com")
    identity_remove(identity=customer.identities.get(address="one@example.com"))
    customer.refresh_from_db()
    assert customer.email == "two@example.com"
    assert customer.identities.get(address="two@example.com").is_primary


def test_identity_remove_last_phone_clears_customer_phone():
    customer = customer_create(name="Ada", phone="+14155552671")
    identity_remove(identity=customer.identities.get())
    customer.refresh_from_db()
    assert customer.phone == ""
    assert not customer.identities.exists()


def test_identity_update_of_primary_address_moves_the_mirror():
    customer = customer_create(name="Ada", email="old@example.com")
    identity = customer.identities.get()
    identity_update(identity=identity, address="Fixed@Example.com", verified=True)
    customer.refresh_from_db()
    identity.refresh_from_db()
    assert (customer.email, identity.address, identity.is_primary, identity.verified) == (
        "fixed@example.com",
        "fixed@example.com",
        True,
        True,
    )


# --- notes -----------------------------------------------------------------------------------------------------


def test_note_create_keeps_author_and_trimmed_body():
    customer = customer_create(name="Ada")
    user = UserFactory()
    note = note_create(customer=customer, author=user, body="  prefers e-mail  ")
    assert (note.author, note.body, note.customer) == (user, "prefers e-mail", customer)


@pytest.mark.parametrize("body", ["", "   ", "x" * 20001, "a\x00b"])
def test_note_create_rejects_empty_or_oversize_bodies(body):
    customer = customer_create(name="Ada")
    with pytest.raises(ValidationError) as error:
        note_create(customer=customer, author=None, body=body)
    assert "body" in error.value.message_dict
    assert Note.objects.count() == 0


# --- organizations ---------------------------------------------------------------------------------------------


def test_organization_create_normalises_domain():
    organization = organization_create(name=" Acme ", domain="@ACME.example.COM")
    assert (organization.name, organization.domain) == ("Acme", "acme.example.com")


@pytest.mark.parametrize(("field", "value"), [("name", ""), ("domain", "not a domain"), ("domain", "x" * 201)])
def test_organization_create_rejects_bad_values(field, value):
    with pytest.raises(ValidationError) as error:
        organization_create(**{"name": "Acme", field: value})
    assert field in error.value.message_dict
    assert Organization.objects.count() == 0


def test_organization_names_are_unique_regardless_of_case():
    organization_create(name="Acme")
    with pytest.raises(ValidationError) as error:
        organization_create(name="ACME")
    assert "name" in error.value.message_dict


def test_organization_update_may_keep_its_own_name_in_another_case():
    organization = organization_create(name="Acme")
    organization_update(organization=organization, name="ACME", notes="big account")
    organization.refresh_from_db()
    assert (organization.name, organization.notes) == ("ACME", "big account")


def test_organization_delete_keeps_its_customers():
    organization = organization_create(name="Acme")
    customer = customer_create(name="Ada", organization=organization)
    organization_delete(organization=organization)
    customer.refresh_from_db()
    assert customer.organization is None


def test_identity_remove_of_a_secondary_does_not_restore_a_cleared_primary():
    customer = customer_create(name="Ada", phone="+14155552671")
    customer_update(customer=customer, phone="")
    customer.identities.create(channel="phone", address="+14155552672")
    identity_remove(identity=customer.identities.get(address="+14155552672"))
    customer.refresh_from_db()
    assert customer.phone == ""
    assert not customer.identities.filter(is_primary=True).exists()
