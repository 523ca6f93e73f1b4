"""``message.created``: a customer's message reaches the console of the agent holding the interaction, and only
theirs; replies and notes, and work nobody holds, publish nothing."""

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from crm.choices import InteractionStatus, MessageDirection
from crm.interactions import services as lifecycle
from crm.live.events import message_sends
from tests.agents.factories import AgentFactory, UserFactory
from tests.crm.factories import interaction_in_status

pytestmark = pytest.mark.django_db


def test_a_customer_message_goes_to_the_agent_holding_the_work_without_a_query(django_assert_num_queries):
    agent = AgentFactory()
    work = interaction_in_status(InteractionStatus.ACTIVE, agent=agent)

    with django_assert_num_queries(0):
        sends = message_sends(
            interaction_id=work.pk, message_id=7, direction=MessageDirection.INBOUND, agent_id=agent.pk
        )

    assert sends == [
        ({f"agent.{agent.pk}"}, "message.created", {"interaction": work.pk, "message": 7, "direction": "inbound"})
    ]


def test_replies_notes_and_unheld_work_publish_nothing():
    agent = AgentFactory()
    held = interaction_in_status(InteractionStatus.ACTIVE, agent=agent)
    waiting = interaction_in_status(InteractionStatus.QUEUED)

    for direction in (MessageDirection.OUTBOUND, MessageDirection.INTERNAL):
        assert message_sends(interaction_id=held.pk, message_id=1, direction=direction, agent_id=agent.pk) == []
    assert (
        message_sends(interaction_id=waiting.pk, message_id=1, direction=MessageDirection.INBOUND, agent_id=None) == []
    )


def test_the_agent_hears_of_the_customer_message_once_it_committed(django_capture_on_commit_callbacks, settings):
    layers = {**settings.CHANNEL_LAYERS}
    layers["default"] = {**layers["default"], "CONFIG": {**layers["default"]["CONFIG"], "prefix": "sb-test-message"}}
    settings.CHANNEL_LAYERS = layers
    agent = AgentFactory()
    work = interaction_in_status(InteractionStatus.ACTIVE, agent=agent)
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(f"agent.{agent.pk}", channel)

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.message_create(interaction=work, direction=MessageDirection.INTERNAL, body="n", author=UserFactory())
        message = lifecycle.message_create(interaction=work, direction=MessageDirection.INBOUND, body="Any news?")

    event = async_to_sync(layer.receive)(channel)  # the note before it published nothing
    assert (event["event"], event["data"]) == (
        "message.created",
        {"interaction": work.pk, "message": message.pk, "direction": "inbound"},
    )
