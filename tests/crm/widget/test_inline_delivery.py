"""A chat reply is sent in the request, right after its commit: no trip through the task queue (no worker runs here),
while a reply to an e-mail customer still waits for the worker (its adapter talks to a mail server)."""

import pytest
from channels.db import database_sync_to_async
from django.db import transaction

from crm.choices import DeliveryStatus
from crm.inboxes.models import Delivery
from crm.interactions.models import Interaction
from tests.crm.inboxes.outbound import email_inbox, email_work, reply

from .conftest import chat_inbox, frames_until, hello, open_widget, run
from .test_consumer import agent_reply, is_message

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_a_chat_reply_reaches_the_visitor_without_a_worker():
    inbox = chat_inbox()

    async def scenario():
        socket = await open_widget(inbox.settings["public_key"])
        await hello(socket, profile={"name": "Ida"})
        await socket.send_json_to({"type": "message", "client_id": "c1", "body": "Is it in stock?"})
        await frames_until(socket, is_message("Is it in stock?"))
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
