"""An address whose mail bounced for good is marked undeliverable; correcting it clears the mark."""

import pytest

from contacts.models import ContactIdentity
from contacts.services import identity_mark_undeliverable, identity_update
from tests.contacts.factories import ContactIdentityFactory

pytestmark = pytest.mark.django_db


def test_marking_finds_the_address_however_it_is_written_and_keeps_the_first_time():
    identity = ContactIdentityFactory(address="anna@example.com")

    assert identity_mark_undeliverable(channel="email", address=" Anna@Example.COM ", reason="5.1.1 User unknown") == 1
    first = ContactIdentity.objects.get(pk=identity.pk).undeliverable_at
    assert identity_mark_undeliverable(channel="email", address="anna@example.com", reason="5.1.1 again") == 0

    identity.refresh_from_db()
    assert identity.undeliverable_at == first and identity.undeliverable_reason == "5.1.1 User unknown"


def test_an_unknown_or_invalid_address_marks_nothing():
    assert identity_mark_undeliverable(channel="email", address="nobody@example.com", reason="5.1.1") == 0
    assert identity_mark_undeliverable(channel="email", address="not an address", reason="5.1.1") == 0


def test_correcting_the_address_clears_the_mark_and_other_changes_keep_it():
    identity = ContactIdentityFactory(address="anna@exmaple.com")
    identity_mark_undeliverable(channel="email", address="anna@exmaple.com", reason="5.1.1")

    identity_update(identity=ContactIdentity.objects.get(pk=identity.pk), verified=True)
    assert ContactIdentity.objects.get(pk=identity.pk).undeliverable_at is not None

    identity_update(identity=ContactIdentity.objects.get(pk=identity.pk), address="anna@example.com")
    identity.refresh_from_db()
    assert (identity.address, identity.undeliverable_at, identity.undeliverable_reason) == (
        "anna@example.com",
        None,
        "",
    )
