"""``interaction_recipient_state``: where a reply goes (the primary identity on the channel, else the oldest, else
for e-mail the customer's own address) and why it may not go there."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contacts.models import ContactIdentity
from crm.inboxes.selectors import interaction_recipient_state
from tests.contacts.factories import ContactIdentityFactory, CustomerFactory
from tests.crm.factories import InteractionFactory

pytestmark = pytest.mark.django_db


def test_the_primary_identity_wins_else_the_oldest_in_one_statement():
    customer = CustomerFactory(email="own@example.com")
    interaction = InteractionFactory(customer=customer, channel="email")
    older = ContactIdentityFactory(customer=customer, address="older@example.com")
    newer = ContactIdentityFactory(customer=customer, address="newer@example.com")
    ContactIdentity.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=2))
    ContactIdentityFactory(customer=customer, channel="sms", address="+15550100")  # another channel: never

    with CaptureQueriesContext(connection) as statements:
        assert interaction_recipient_state(interaction=interaction) == ("older@example.com", "")
    assert len(statements) == 1

    ContactIdentity.objects.filter(pk=newer.pk).update(is_primary=True)
    assert interaction_recipient_state(interaction=interaction) == ("newer@example.com", "")


def test_a_refused_address_says_why_and_without_identities_e_mail_falls_back_to_the_customer():
    customer = CustomerFactory(email="own@example.com")
    interaction = InteractionFactory(customer=customer, channel="email")
    assert interaction_recipient_state(interaction=interaction) == ("own@example.com", "")

    identity = ContactIdentityFactory(customer=customer, address="gone@example.com")
    ContactIdentity.objects.filter(pk=identity.pk).update(undeliverable_at=timezone.now(), undeliverable_reason="")
    assert interaction_recipient_state(interaction=interaction) == ("gone@example.com", "undeliverable")
    ContactIdentity.objects.filter(pk=identity.pk).update(undeliverable_reason="opted out (STOP)")
    assert interaction_recipient_state(interaction=interaction) == ("gone@example.com", "opted out (STOP)")

    texting = InteractionFactory(customer=customer, channel="sms")
    assert interaction_recipient_state(interaction=texting) == (None, "")
