"""A visitor's message over the socket reaches the console of the agent holding the conversation (``message.created``)
as well as the visitor's own tabs: the import's events and the message are sent together by the socket, after the
commit, and none is lost."""

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from crm.interactions import services as lifecycle
from crm.interactions.models import Interaction, Message
from crm.live.publisher import agent_group
from tests.agents.factories import AgentFactory

from .conftest import chat_inbox, frames_until, is_message, run, visitor_wrote

pytestmark = [pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def _hand_to_agent(agent) -> int:
    interaction = Interaction.objects.get()
    lifecycle.interaction_assign(interaction=interaction, agent=agent)
    lifecycle.interaction_accept(interaction=Interaction.objects.get(), agent=agent)
    return interaction.pk


def test_the_agent_holding_the_chat_hears_each_visitor_message_once():
    inbox = chat_inbox()
    agent = AgentFactory()

    async def scenario():
        socket = await visitor_wrote(inbox, name="Olga", body="Hello?")
        interaction_id = await _hand_to_agent(agent)
        layer = get_channel_layer()
        console = await layer.new_channel()
        await layer.group_add(agent_group(agent.pk), console)
        await socket.send_json_to({"type": "message", "client_id": "c2", "body": "Still there?"})
        frames = await frames_until(socket, is_message("Still there?"))
        heard = await layer.receive(console)
        await socket.send_json_to({"type": "message", "client_id": "c2", "body": "Still there?"})  # a resend
        await socket.receive_nothing(timeout=0.5)
        await socket.disconnect()
        return interaction_id, frames[-1], heard

    interaction_id, frame, heard = run(scenario)
    message = Message.objects.get(body="Still there?")
    assert frame["data"]["id"] == message.pk and frame["data"]["client_id"] == "c2"
    assert (heard["event"], heard["data"]) == (
        "message.created",
        {"interaction": interaction_id, "message": message.pk, "direction": "inbound"},
    )
    assert Message.objects.filter(body="Still there?").count() == 1
