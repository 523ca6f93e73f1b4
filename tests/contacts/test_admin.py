import pytest
from django.urls import reverse

from contacts.models import ContactIdentity, Customer, Note, Organization
from contacts.services import customer_create, note_create, organization_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada():
    acme = organization_create(name="Acme", domain="acme.example.com")
    customer = customer_create(
        name="Ada Lovelace",
        email="ada@example.com",
        phone="+14155552671",
        organization=acme,
        identities=[{"channel": "social", "address": "@ada"}],
    )
    note_create(customer=customer, author=None, body="Prefers e-mail.")
    return customer


def _customer_form(customer=None, *, identities=(), notes=(), **overrides):
    """The POST the customer change form sends: the customer's fields, then both inline formsets."""
    existing = list(customer.identities.order_by("id")) if customer else []
    existing_notes = list(customer.notes.order_by("id")) if customer else []
    data = {
        "name": customer.name if customer else "",
        "email": customer.email if customer else "",
        "phone": customer.phone if customer else "",
        "organization": customer.organization_id or "" if customer else "",
        "language": customer.language if customer else "en",
        "timezone": customer.timezone if customer else "UTC",
        "tier": customer.tier if customer else "standard",
        "tags": ",".join(customer.tags) if customer else "",
        "attributes": "{}",
        "identities-TOTAL_FORMS": str(len(existing) + len(identities)),
        "identities-INITIAL_FORMS": str(len(existing)),
        "identities-MIN_NUM_FORMS": "0",
        "identities-MAX_NUM_FORMS": "1000",
        "notes-TOTAL_FORMS": str(len(existing_notes) + len(notes)),
        "notes-INITIAL_FORMS": str(len(existing_notes)),
        "notes-MIN_NUM_FORMS": "0",
        "notes-MAX_NUM_FORMS": "1000",
    }
    for index, identity in enumerate(existing):
        data |= {
            f"identities-{index}-id": str(identity.pk),
            f"identities-{index}-customer": str(customer.pk),
            f"identities-{index}-channel": identity.channel,
            f"identities-{index}-address": identity.address,
        }
    for offset, (channel, address) in enumerate(identities, start=len(existing)):
        data |= {f"identities-{offset}-channel": channel, f"identities-{offset}-address": address}
    for index, note in enumerate(existing_notes):
        data |= {
            f"notes-{index}-id": str(note.pk),
            f"notes-{index}-customer": str(customer.pk),
            f"notes-{index}-body": note.body,
        }
    for offset, body in enumerate(notes, start=len(existing_notes)):
        data[f"notes-{offset}-body"] = body
    data |= overrides
    return data


@pytest.mark.parametrize("model", ["customer", "organization", "contactidentity", "note"])
def test_changelist_add_and_change_pages_render(admin_client, ada, model):
    objects = {
        "customer": ada,
        "organization": ada.organization,
        "contactidentity": ada.identities.get(channel="social"),
        "note": ada.notes.get(),
    }
    assert admin_client.get(reverse(f"admin:contacts_{model}_changelist")).status_code == 200
    assert admin_client.get(reverse(f"admin:contacts_{model}_changelist"), {"q": "ada"}).status_code == 200
    assert admin_client.get(reverse(f"admin:contacts_{model}_add")).status_code == 200
    response = admin_client.get(reverse(f"admin:contacts_{model}_change", args=[objects[model].pk]))
    assert response.status_code == 200


def test_customer_changelist_search_finds_a_formatted_phone(admin_client, ada):
    customer_create(name="Grace Hopper", email="grace@example.com")
    response = admin_client.get(reverse("admin:contacts_customer_changelist"), {"q": "(415) 555-2671"})
    assert list(response.context["cl"].result_list) == [ada]


def test_organization_changelist_shows_customer_count(admin_client, ada):
    response = admin_client.get(reverse("admin:contacts_organization_changelist"))
    assert response.context["cl"].result_list[0].customer_count == 1


def test_add_customer_creates_normalised_primary_identities(admin_client):
    data = _customer_form(
        identities=[("chat", "visitor-1")], name="Grace", email="Grace@Navy.MIL", phone="(415) 555-2672"
    )
    response = admin_client.post(reverse("admin:contacts_customer_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    customer = Customer.objects.get()
    assert (customer.email, customer.phone) == ("grace@navy.mil", "+14155552672")
    assert sorted(customer.identities.values_list("channel", "address", "is_primary")) == [
        ("chat", "visitor-1", False),
        ("email", "grace@navy.mil", True),
        ("phone", "+14155552672", True),
    ]


def test_changing_email_in_admin_keeps_identities_in_step(admin_client, ada):
    response = admin_client.post(
        reverse("admin:contacts_customer_change", args=[ada.pk]), _customer_form(ada, email="Countess@Example.com")
    )
    assert response.status_code == 302
    ada.refresh_from_db()
    assert ada.email == "countess@example.com"
    assert ada.identities.get(address="countess@example.com").is_primary
    assert not ada.identities.get(address="ada@example.com").is_primary


def test_bad_identity_address_in_the_inline_is_a_form_error(admin_client, ada):
    before = sorted(ContactIdentity.objects.values_list("channel", "address"))
    response = admin_client.post(
        reverse("admin:contacts_customer_change", args=[ada.pk]),
        _customer_form(ada, identities=[("phone", "call me maybe")], name="Renamed"),
    )
    assert response.status_code == 200
    errors = [form.errors for form in response.context["inline_admin_formsets"][0].formset.forms]
    assert any("address" in e for e in errors)
    assert sorted(ContactIdentity.objects.values_list("channel", "address")) == before
    ada.refresh_from_db()
    assert ada.name == "Ada Lovelace"


def test_inline_identity_is_normalised_and_duplicates_are_form_errors(admin_client, ada):
    grace = customer_create(name="Grace", email="grace@example.com")
    url = reverse("admin:contacts_customer_change", args=[grace.pk])
    response = admin_client.post(url, _customer_form(grace, identities=[("email", "ADA@Example.com")]))
    assert response.status_code == 200
    assert not grace.identities.filter(address="ada@example.com").exists()

    response = admin_client.post(url, _customer_form(grace, identities=[("phone", "(415) 555-2679")]))
    assert response.status_code == 302
    grace.refresh_from_db()
    assert grace.phone == "+14155552679"


def test_bad_values_on_the_customer_form_are_form_errors(admin_client, ada):
    response = admin_client.post(
        reverse("admin:contacts_customer_change", args=[ada.pk]),
        _customer_form(ada, email="not-an-email", timezone="Mars/Base", language="english"),
    )
    assert response.status_code == 200
    assert set(response.context["adminform"].form.errors) == {"email", "timezone", "language"}


def test_note_added_in_the_admin_is_authored_by_the_signed_in_user(admin_client, admin_user, ada):
    response = admin_client.post(
        reverse("admin:contacts_customer_change", args=[ada.pk]), _customer_form(ada, notes=["Called back."])
    )
    assert response.status_code == 302
    assert Note.objects.get(body="Called back.").author == admin_user


def test_identity_admin_rejects_a_bad_phone(admin_client, ada):
    response = admin_client.post(
        reverse("admin:contacts_contactidentity_add"), {"customer": ada.pk, "channel": "phone", "address": "12"}
    )
    assert response.status_code == 200
    assert "address" in response.context["adminform"].form.errors
    assert ada.identities.count() == 3


def test_deleting_a_primary_identity_in_the_admin_clears_the_mirror(admin_client, ada):
    phone = ada.identities.get(channel="phone")
    response = admin_client.post(reverse("admin:contacts_contactidentity_delete", args=[phone.pk]), {"post": "yes"})
    assert response.status_code == 302
    ada.refresh_from_db()
    assert ada.phone == ""


def test_organization_admin_rejects_a_name_taken_in_another_case(admin_client, ada):
    response = admin_client.post(reverse("admin:contacts_organization_add"), {"name": "ACME", "domain": ""})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert Organization.objects.count() == 1


def test_organization_admin_normalises_the_domain(admin_client):
    response = admin_client.post(
        reverse("admin:contacts_organization_add"), {"name": "Globex", "domain": "@GLOBEX.com"}
    )
    assert response.status_code == 302
    assert Organization.objects.get().domain == "globex.com"
