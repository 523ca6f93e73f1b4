"""Twilio's status callbacks of our replies: ``delivered`` and WhatsApp's ``read`` shown on the reply, never moved
backwards by a callback that arrives late (Twilio does not promise their order), signed like everything else."""

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.test import Client

from crm.choices import DeliveryStatus, InteractionStatus
from crm.inboxes.adapters.twilio import TwilioWhatsAppAdapter
from crm.interactions.models import Interaction, Message
from tests.agents.factories import AgentFactory, TeamFactory
from tests.crm.factories import QueueFactory, interaction_in_status
from tests.crm.inboxes.factories import InboxFactory
from tests.support.fake_twilio import SID, TOKEN

from .test_twilio import CUSTOMER, NUMBER, _inbox, _post, _reply, _send, _sms

pytestmark = pytest.mark.django_db

D = DeliveryStatus


def _status(client, inbox, delivery, status, **extra):
    fields = {"MessageSid": delivery.provider_id, "MessageStatus": status, "AccountSid": SID, "To": CUSTOMER, **extra}
    return _post(client, inbox, fields, status=True)


def _states(delivery):
    delivery.refresh_from_db()
    return delivery.status, Message.objects.get(pk=delivery.message_id).delivery_status


def test_a_whatsapp_reply_moves_to_delivered_then_read_and_late_callbacks_never_move_it_back(client, twilio):
    inbox = _inbox(twilio, channel="whatsapp")
    _post(client, inbox, _sms(sender=f"whatsapp:{CUSTOMER}", To=f"whatsapp:{NUMBER}"))
    delivery = _send(_reply(Interaction.objects.get()))
    assert _states(delivery) == (D.SENT, D.SENT)

    assert _status(client, inbox, delivery, "delivered").status_code == 204
    assert _states(delivery) == (D.DELIVERED, D.DELIVERED)
    _status(client, inbox, delivery, "sent")  # Twilio's "sent" arriving after its "delivered"
    assert _states(delivery) == (D.DELIVERED, D.DELIVERED)

    _status(client, inbox, delivery, "read")
    assert _states(delivery) == (D.READ, D.READ)
    _status(client, inbox, delivery, "delivered")
    _status(client, inbox, delivery, "queued")
    _status(client, inbox, delivery, "failed", ErrorCode="30008")  # cannot undo what the customer read
    assert _states(delivery) == (D.READ, D.READ)
    delivery.refresh_from_db()
    assert delivery.error == ""


def test_a_delivered_callback_does_not_revive_a_failed_reply_nor_a_forged_one_move_anything(client, twilio):
    inbox = _inbox(twilio)
    _post(client, inbox, _sms())
    interaction = Interaction.objects.get()
    lost, kept = _send(_reply(interaction)), _send(_reply(interaction, body="Second"))

    _status(client, inbox, lost, "undelivered", ErrorCode="30003")
    _status(client, inbox, lost, "delivered")
    forged = _post(client, inbox, {"MessageSid": kept.provider_id, "MessageStatus": "read"}, status=True,
                   signature="forged=")  # fmt: skip
    unknown = _post(client, inbox, {"MessageSid": "SM" + "9" * 32, "MessageStatus": "delivered"}, status=True)

    assert _states(lost) == (D.FAILED, D.FAILED) and "30003" in lost.error
    assert forged.status_code == 403 and _states(kept) == (D.SENT, D.SENT)
    assert unknown.status_code == 204


def _whatsapp_work(twilio):
    team = TeamFactory(name="Texting")
    agent = AgentFactory(team=team, name="Ana Agent")
    queue = QueueFactory(channels=["whatsapp"], team=team)
    values = {"account_sid": SID, "auth_token": TOKEN, "from_number": NUMBER, "api_base_url": twilio.base_url}
    inbox = InboxFactory(name="Acme WhatsApp", channel="whatsapp", adapter="whatsapp", queue=queue,
                         settings=TwilioWhatsAppAdapter.validate_settings(values))  # fmt: skip
    work = interaction_in_status(
        InteractionStatus.ACTIVE, agent=agent, channel="whatsapp", queue=queue, inbox=inbox,
        customer_identity={"address": CUSTOMER, "name": "Ada"}, body="Where is my order?",
    )  # fmt: skip
    return agent, inbox, work


def test_the_agent_sees_a_reply_delivered_and_read(client, twilio):
    agent, inbox, work = _whatsapp_work(twilio)
    first, second = _send(_reply(work)), _send(_reply(work, body="Anything else?"))
    _status(client, inbox, first, "read")
    _status(client, inbox, second, "delivered")
    console = Client()
    console.force_login(agent.user)

    page = console.get(f"/console/interactions/{work.pk}/").content.decode()

    assert f'id="delivery-{first.message_id}"' in page and '<span class="delivery-status">Read</span>' in page
    assert '<span class="delivery-status">Delivered</span>' in page


def test_a_read_receipt_reaches_the_agents_console_live(client, twilio, settings, django_capture_on_commit_callbacks):
    layers = {**settings.CHANNEL_LAYERS}
    layers["default"] = {**layers["default"], "CONFIG": {**layers["default"]["CONFIG"], "prefix": "sb-test-read"}}
    settings.CHANNEL_LAYERS = layers
    agent, inbox, work = _whatsapp_work(twilio)
    delivery = _send(_reply(work))
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(f"agent.{agent.pk}", channel)

    with django_capture_on_commit_callbacks(execute=True):
        _status(client, inbox, delivery, "read")

    event = async_to_sync(layer.receive)(channel)
    assert event["event"] == "message.delivery"
    assert (event["data"]["message"], event["data"]["status"]) == (delivery.message_id, "read")
