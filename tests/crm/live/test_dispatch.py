"""Frames and events go straight to their handlers (``crm.live.dispatch``): with the process's one sync thread busy
(a snapshot being read, a slow query), an agent's console and a visitor's widget still get their events at once.
Channels' own dispatch first waited for that thread on every event."""

import asyncio
import time

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from crm.live.publisher import agent_group
from crm.widget.adapter import visitor_group
from crm.widget.visitors import visitor_for
from tests.agents.factories import AgentFactory

from ..widget.conftest import chat_inbox, hello, open_widget
from .conftest import connect, event, frames_until, reserve, run

pytestmark = pytest.mark.django_db(transaction=True)

BUSY_SECONDS = 3.0  # how long the sync thread is held; an event must not wait for it


async def _while_the_sync_thread_is_busy(deliver):
    """``deliver()`` (sends an event, answers once the socket has it) run while the thread-sensitive thread sleeps;
    how long the event took."""
    busy = asyncio.ensure_future(sync_to_async(time.sleep)(BUSY_SECONDS))  # thread-sensitive, as Channels' hop was
    await asyncio.sleep(0.1)
    started = time.monotonic()
    await deliver()
    took = time.monotonic() - started
    await busy
    return took


def test_a_console_gets_its_event_while_the_sync_thread_is_busy():
    agent = AgentFactory()
    group = agent_group(agent.pk)

    async def scenario():
        socket, _ = await connect("/ws/console/", agent.user)
        (number,) = reserve(group, 1)

        async def deliver():
            await get_channel_layer().group_send(group, event(group, number, "break"))
            frames = await frames_until(socket, lambda f: f.get("data", {}).get("status") == "break", timeout=10)
            assert frames[-1]["seq"] == 1

        took = await _while_the_sync_thread_is_busy(deliver)
        await socket.disconnect()
        return took

    assert run(scenario) < BUSY_SECONDS / 3


def test_a_visitor_gets_a_reply_while_the_sync_thread_is_busy():
    inbox = chat_inbox()

    async def scenario():
        socket = await open_widget(inbox.settings["public_key"])
        welcome, _ = await hello(socket)
        visitor = await database_sync_to_async(visitor_for)(inbox=inbox, token=welcome["token"])
        group = visitor_group(visitor.id)
        (number,) = reserve(group, 1)

        async def deliver():
            data = {"id": 1, "from": "agent", "body": "On my way", "at": "2026-12-05T10:00:00+00:00"}
            reply = event(group, number, "") | {"event": "widget.message", "data": data}
            await get_channel_layer().group_send(group, reply)
            frames = await frames_until(socket, lambda f: f.get("data", {}).get("body") == "On my way", timeout=10)
            assert frames[-1]["event"] == "message"

        took = await _while_the_sync_thread_is_busy(deliver)
        await socket.disconnect()
        return took

    assert run(scenario) < BUSY_SECONDS / 3
