"""The same bridged message (the bridge API, Twilio, the widget's resend) imported by several requests at once is
stored once: real threads, each with its own database connection, committing for real. The receipt's
``INSERT … ON CONFLICT DO NOTHING`` waits on the first import's uncommitted row, then finds it."""

import threading

import pytest

from crm.inboxes.models import InboundReceipt
from crm.inboxes.services.bridge import bridge_message_receive
from crm.interactions.models import Interaction, Message
from tests.crm.inboxes.test_bridge import bridge_inbox
from tests.support.threads import run_in_threads

pytestmark = pytest.mark.django_db(transaction=True)


def test_one_message_posted_five_times_at_once_is_imported_once_and_every_caller_gets_it():
    inbox = bridge_inbox()
    start, receipts = threading.Barrier(5), []

    def receive():
        start.wait(10)
        receipts.append(
            bridge_message_receive(
                inbox=inbox, address="wa-4915100000", body="Where is my order?", external_id="wamid.9"
            )
        )

    assert run_in_threads(*[receive] * 5) == []

    assert sorted(receipt.created for receipt in receipts) == [False, False, False, False, True]
    assert len({receipt.message.pk for receipt in receipts}) == 1
    assert len({receipt.interaction.pk for receipt in receipts}) == 1
    assert Interaction.objects.count() == 1 and Message.objects.get().body == "Where is my order?"
    receipt = InboundReceipt.objects.get()
    assert (receipt.key, receipt.message_id) == ("wamid.9", receipts[0].message.pk)
