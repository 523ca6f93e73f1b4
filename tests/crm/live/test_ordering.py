"""Events of one group that arrive out of order (two publishers took 5 and 6, the 6 was sent first) go to the
browser in order without a snapshot; a hole that stays open past the wait is a loss, answered with a snapshot."""

import pytest
from channels.layers import get_channel_layer

from crm.live.ordering import REORDER_WAIT_SECONDS, GroupOrder
from crm.live.publisher import agent_group
from tests.agents.factories import AgentFactory

from .conftest import connect, event, frames_until, quiet, reserve, run

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_events_swapped_in_flight_reach_the_console_in_order_without_a_snapshot():
    agent = AgentFactory()
    group = agent_group(agent.pk)

    async def scenario():
        socket, snapshot = await connect("/ws/console/", agent.user)
        first, second = reserve(group, 2)
        layer = get_channel_layer()
        await layer.group_send(group, event(group, second, "second"))
        await layer.group_send(group, event(group, first, "first"))
        frames = await frames_until(socket, lambda f: f.get("data", {}).get("status") == "second")
        frames += await quiet(socket, timeout=REORDER_WAIT_SECONDS + 0.5)
        await socket.disconnect()
        return frames

    frames = run(scenario)
    assert [f["data"]["status"] for f in frames if f["type"] == "event"] == ["first", "second"]
    assert [f["seq"] for f in frames] == [1, 2]
    assert not [f for f in frames if f["type"] == "snapshot"]


def test_a_hole_that_stays_open_is_a_loss_and_the_console_takes_a_snapshot():
    agent = AgentFactory()
    group = agent_group(agent.pk)

    async def scenario():
        socket, _ = await connect("/ws/console/", agent.user)
        _, second = reserve(group, 2)  # the first is never sent: the layer dropped it
        await get_channel_layer().group_send(group, event(group, second, "second"))
        early = await quiet(socket, timeout=REORDER_WAIT_SECONDS / 2)
        frames = await frames_until(socket, lambda f: f["type"] == "snapshot", timeout=REORDER_WAIT_SECONDS + 3)
        await socket.disconnect()
        return early, frames

    early, frames = run(scenario)
    assert early == []  # held back while the missing one may still come
    assert frames[-1]["type"] == "snapshot" and frames[-1]["seq"] == 0
    assert not [f for f in frames if f["type"] == "event"]  # the snapshot holds what was lost and what was held


def test_group_order_releases_in_order_and_forgets_what_a_snapshot_covers():
    order = GroupOrder()
    order.reset({"g": 4})
    assert order.accept("g", 6, {"n": 6}) == [] and order.waiting()
    assert order.accept("g", 5, {"n": 5}) == [{"n": 5}, {"n": 6}] and not order.waiting()
    assert order.accept("g", 6, {"n": 6}) == []  # twice: once only
    assert order.accept("other", 1, {"n": 1}) == []  # not a group of this socket
    order.accept("g", 9, {"n": 9})
    order.accept("g", 11, {"n": 11})
    assert order.overdue(wait=0) == ["g"]
    assert order.reset({"g": 9}) == []  # the snapshot read up to 9: 11 still waits for 10
    assert order.accept("g", 10, {"n": 10}) == [{"n": 10}, {"n": 11}]
