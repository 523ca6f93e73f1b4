"""Shared builders of the outbound tests: an e-mail inbox and a customer's conversation through it."""

from crm.choices import InteractionStatus, MessageDirection
from crm.inboxes.models import Delivery
from crm.interactions import services as lifecycle
from tests.crm.factories import QueueFactory, interaction_in_status
from tests.crm.inboxes.factories import InboxFactory

CUSTOMER = "ada@example.com"
FIRST_ID = "CAF=first@mail.example.com"  # the Message-ID of the customer's first mail


def email_inbox(*, smtp_url: str | None = None, team=None, **settings):
    values = {"address": "support@acme.test", "display_name": "Acme Support", **settings}
    if smtp_url:
        values["smtp_url"] = smtp_url
    queue = QueueFactory(channels=["email"], team=team)
    return InboxFactory(name="Acme support", queue=queue, settings=values)


def email_work(inbox, *, status=InteractionStatus.ACTIVE, agent=None, subject="Printer is broken"):
    """The customer's mail (Message-ID ``FIRST_ID``) made an interaction of ``inbox``, brought to ``status``."""
    return interaction_in_status(
        status,
        agent=agent,
        channel="email",
        queue=inbox.queue,
        customer_identity={"address": CUSTOMER, "name": "Ada Lovelace"},
        subject=subject,
        body="My printer is broken.",
        inbox=inbox,
        message_external_id=FIRST_ID,
    )


def reply(interaction, body="Please restart it.", **kwargs):
    return lifecycle.message_create(interaction=interaction, direction=MessageDirection.OUTBOUND, body=body, **kwargs)


def delivery_of(message) -> Delivery:
    return Delivery.objects.select_related("message").get(message_id=message.pk)
