"""Auto-replies, bounces and our own mail come back: recorded, kept beside their thread for the agents, and never
opening work, reopening anything, moving an SLA clock or being answered."""

import pytest

from contacts.models import ContactIdentity
from crm.choices import InteractionStatus, MessageDirection
from crm.inboxes.models import ReceiptStatus
from crm.inboxes.services.inbound import email_receive
from crm.interactions import services as lifecycle
from crm.interactions.models import Interaction, Message
from tests.agents.factories import AgentFactory
from tests.contacts.factories import ContactIdentityFactory
from tests.crm.inboxes.email import corpus

pytestmark = pytest.mark.django_db

SENT = "sent-7@switchboard.acme.test"  # the corpus's DSN bounced this one
TYPO = "anna.kovacs@exmaple.com"  # where it was sent (the address the customer mistyped once)


def _receive(inbox, raw):
    return email_receive(inbox=inbox, raw=raw, source="endpoint")


@pytest.fixture
def thread(inbox):
    """The customer wrote; the agent accepted it and answered (to a mistyped address of hers) as ``SENT``."""
    interaction = _receive(inbox, corpus.message().as_bytes()).interaction
    ContactIdentityFactory(customer=interaction.customer, address=TYPO)
    interaction = lifecycle.interaction_assign(interaction=interaction, agent=AgentFactory())
    interaction = lifecycle.interaction_accept(interaction=interaction)
    lifecycle.message_create(
        interaction=interaction, direction=MessageDirection.OUTBOUND, body="Please restart it.", external_id=SENT
    )
    interaction.refresh_from_db()
    return interaction


def _clocks(interaction):
    interaction.refresh_from_db()
    return (interaction.status, interaction.agent_id, interaction.next_response_from, interaction.next_response_due_at)


def test_a_bounce_joins_the_thread_it_bounced_from_as_a_note_and_marks_the_address(inbox, thread):
    before = _clocks(thread)

    receipt = _receive(inbox, corpus.dsn_bounce(original_id=f"<{SENT}>"))

    assert receipt.status == ReceiptStatus.NOISE and receipt.interaction == thread
    assert "Delivery failed for anna.kovacs@exmaple.com (5.1.1" in receipt.reason
    note = receipt.message
    assert note.interaction == thread and note.direction == MessageDirection.INTERNAL and note.author is None
    assert note.body.startswith("Delivery failed for anna.kovacs@exmaple.com")
    assert _clocks(thread) == before  # no clock moved, nobody answers it
    identity = ContactIdentity.objects.get(address=TYPO)
    assert identity.undeliverable_at is not None and identity.undeliverable_reason.startswith("5.1.1")
    other = ContactIdentity.objects.get(address=corpus.CUSTOMER)
    assert other.undeliverable_at is None


def test_a_delayed_delivery_report_marks_nothing(inbox, thread):
    receipt = _receive(inbox, corpus.dsn_bounce(status="4.4.1", action="delayed", original_id=f"<{SENT}>"))

    assert receipt.status == ReceiptStatus.NOISE and receipt.interaction == thread
    assert receipt.reason.startswith("Delivery delayed")
    assert ContactIdentity.objects.get(address=TYPO).undeliverable_at is None


def test_a_bounce_of_a_message_we_never_sent_marks_nothing(inbox, thread):
    receipt = _receive(inbox, corpus.dsn_bounce(original_id="<forged@switchboard.acme.test>"))

    assert receipt.status == ReceiptStatus.NOISE and receipt.interaction is None
    assert ContactIdentity.objects.get(address=TYPO).undeliverable_at is None
    assert not Message.objects.filter(direction=MessageDirection.INTERNAL).exists()


def test_an_auto_reply_to_our_answer_is_a_note_that_moves_no_clock(inbox, thread):
    before = _clocks(thread)
    raw = corpus.message(
        subject="Automatic reply: Printer is broken",
        body="I am out of office until Monday.",
        message_id="<ooo-9@example.com>",
        headers={"Auto-Submitted": "auto-replied", "In-Reply-To": f"<{SENT}>"},
    ).as_bytes()

    receipt = _receive(inbox, raw)

    assert receipt.status == ReceiptStatus.NOISE and receipt.interaction == thread
    assert receipt.message.direction == MessageDirection.INTERNAL
    assert "I am out of office until Monday." in receipt.message.body
    assert _clocks(thread) == before
    assert not thread.messages.filter(direction=MessageDirection.INBOUND, body__contains="out of office").exists()


def test_an_auto_reply_never_reopens_a_resolved_interaction(inbox, thread):
    lifecycle.interaction_resolve(interaction=thread)
    raw = corpus.message(
        message_id="<ooo-10@example.com>", headers={"X-Autoreply": "yes", "In-Reply-To": f"<{SENT}>"}
    ).as_bytes()

    receipt = _receive(inbox, raw)

    thread.refresh_from_db()
    assert receipt.status == ReceiptStatus.NOISE and thread.status == InteractionStatus.RESOLVED
    assert Interaction.objects.count() == 1


def test_our_own_mail_coming_back_is_recorded_on_its_thread_and_nothing_else(inbox, thread):
    raw = corpus.message(sender=corpus.SUPPORT, to=corpus.CUSTOMER, message_id=f"<{SENT}>").as_bytes()
    messages = Message.objects.count()

    receipt = _receive(inbox, raw)

    assert receipt.status == ReceiptStatus.NOISE and receipt.interaction == thread and receipt.message is None
    assert "our own" in receipt.reason.lower()
    assert Message.objects.count() == messages


def test_noise_without_a_thread_is_only_recorded(inbox):
    receipt = _receive(inbox, corpus.qmail_bounce())

    assert receipt.status == ReceiptStatus.NOISE and receipt.interaction is None and receipt.message is None
    assert not Interaction.objects.exists()
