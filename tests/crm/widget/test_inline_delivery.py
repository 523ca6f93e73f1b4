"""A chat reply is sent in the request, right after its commit: no trip through the task queue (no worker runs here),
while a reply to an e-mail customer still waits for the worker (its adapter talks to a mail server)."""

import pytest
from channels.db import database_sync_to_async
from django.db import transaction

from crm.choices import DeliveryStatus, MessageDirection
from crm.inboxes.models import Delivery
from crm.interactions.models import Interaction, Message
from crm.interactions.services import message_create
from crm.widget.services import widget_message_receive
from crm.widget.visitors import visitor_for
from tests.crm.inboxes.outbound import email_inbox, email_work, reply

from .conftest import chat_inbox, frames_until, is_message, run, visitor_wrote
from .test_consumer import agent_reply

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_a_chat_reply_reaches_the_visitor_without_a_worker():
    inbox = chat_inbox()

    async def scenario():
        socket = await visitor_wrote(inbox, name="Ida", body="Is it in stock?")
        interaction = await database_sync_to_async(Interaction.objects.get)()
        message = await agent_reply(interaction.pk, "Yes, 12 left.")
        frames = await frames_until(socket, is_message("Yes, 12 left."))
        await socket.disconnect()
        return message, frames[-1]

    message, frame = run(scenario)
    assert frame["data"]["from"] == "agent"
    delivery = Delivery.objects.get(message=message)
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 1
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.SENT


def test_an_email_reply_is_left_to_the_worker():
    inbox = email_inbox(smtp_url="smtp://127.0.0.1:9")  # nothing listens there: sending now would fail the attempt
    interaction = email_work(inbox)
    with transaction.atomic():
        message = reply(interaction)
    delivery = Delivery.objects.get(message=message)
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 0  # not tried in this process


@pytest.mark.django_db(transaction=False)
def test_an_outcome_recorded_first_stands_when_the_send_in_the_request_finishes_later(
    django_capture_on_commit_callbacks,
):
    """The in-request send records its success in one statement that changes the delivery only while it is pending:
    an outcome recorded meanwhile (the sweep's attempt after the lease ran out) is the one that stays."""
    inbox = chat_inbox()
    visitor = visitor_for(inbox=inbox, token=None)
    widget_message_receive(inbox=inbox, visitor_id=visitor.id, body="Hello?", client_id="first")
    interaction = Interaction.objects.get()
    with django_capture_on_commit_callbacks(execute=False) as after_commit:
        message = message_create(interaction=interaction, direction=MessageDirection.OUTBOUND, body="Hi there")
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.PENDING  # written pending, before anything is sent
    Delivery.objects.filter(message=message).update(status=DeliveryStatus.FAILED, error="gave up")
    Message.objects.filter(pk=message.pk).update(delivery_status=DeliveryStatus.FAILED)
    for callback in after_commit:
        callback()
    delivery = Delivery.objects.get(message=message)
    message.refresh_from_db()
    assert (delivery.status, delivery.error, delivery.provider_id) == (DeliveryStatus.FAILED, "gave up", "")
    assert (message.delivery_status, message.external_id) == (DeliveryStatus.FAILED, "")
