"""The database itself refuses identities that would let two customers share an address or store it un-normalised."""

import pytest
from django.db import IntegrityError, transaction

from contacts.choices import IdentityChannel
from contacts.models import ContactIdentity, Customer, Organization
from tests.contacts.factories import ContactIdentityFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def test_duplicate_channel_and_address_is_refused():
    ContactIdentityFactory(channel=IdentityChannel.EMAIL, address="ada@example.com")
    other = CustomerFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ContactIdentity.objects.create(customer=other, channel=IdentityChannel.EMAIL, address="ada@example.com")
    assert ContactIdentity.objects.filter(address="ada@example.com").count() == 1


def test_same_address_on_another_channel_is_allowed():
    ContactIdentityFactory(channel=IdentityChannel.CHAT, address="ada")
    ContactIdentityFactory(channel=IdentityChannel.SOCIAL, address="ada")
    assert ContactIdentity.objects.filter(address="ada").count() == 2


def test_email_identity_must_be_lower_case():
    customer = CustomerFactory()
    with pytest.raises(IntegrityError, match="identity_email_lowercase"), transaction.atomic():
        ContactIdentity.objects.create(customer=customer, channel=IdentityChannel.EMAIL, address="Ada@Example.com")


@pytest.mark.parametrize("address", ["4155552671", "+0123456789", "+1 415 555 2671", "+12"])
def test_phone_identity_must_be_e164(address):
    customer = CustomerFactory()
    with pytest.raises(IntegrityError, match="identity_phone_e164"), transaction.atomic():
        ContactIdentity.objects.create(customer=customer, channel=IdentityChannel.PHONE, address=address)


def test_identity_address_cannot_be_empty():
    customer = CustomerFactory()
    with pytest.raises(IntegrityError, match="identity_address_not_empty"), transaction.atomic():
        ContactIdentity.objects.create(customer=customer, channel=IdentityChannel.CHAT, address="")


def test_customer_email_must_be_lower_case():
    with pytest.raises(IntegrityError, match="customer_email_lowercase"), transaction.atomic():
        Customer.objects.create(name="Ada", email="Ada@example.com")


def test_organization_names_are_unique_regardless_of_case():
    Organization.objects.create(name="Acme")
    with pytest.raises(IntegrityError, match="organization_name_ci_unique"), transaction.atomic():
        Organization.objects.create(name="ACME")
