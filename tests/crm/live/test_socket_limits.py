"""Sockets per user (crm.live.socket_limits): one over SWITCHBOARD_WS_MAX_PER_USER is closed with 4429, across processes."""

import time

import pytest
from channels.layers import get_channel_layer

from crm.live.socket_limits import slot_key
from tests.agents.factories import AgentFactory, TeamFactory, UserFactory

from .conftest import connect, open_socket, run

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def people():
    team = TeamFactory(name="Blue")
    supervisor = UserFactory(username="sup")
    team.supervisors.add(supervisor)
    return {"ann": AgentFactory(name="Ann", team=team), "bob": AgentFactory(name="Bob", team=team), "sup": supervisor}


async def refused(path: str, user) -> dict:
    socket = await open_socket(path, user)
    connected, _ = await socket.connect(timeout=5)
    assert connected  # accepted first, so that a browser sees the code
    return await socket.receive_output(timeout=5)


def test_a_socket_over_the_limit_is_closed_with_4429_and_a_closed_one_frees_its_slot(people, settings):
    settings.SWITCHBOARD_WS_MAX_PER_USER = 2
    ann, bob = people["ann"].user, people["bob"].user

    async def scenario():
        first, _ = await connect("/ws/console/", ann)
        second, _ = await connect("/ws/console/", ann)

        assert await refused("/ws/console/", ann) == {"type": "websocket.close", "code": 4429}
        other, _ = await connect("/ws/console/", bob)  # the limit is per user
        await first.disconnect()
        again, _ = await connect("/ws/console/", ann)  # the closed socket gave its slot back

        for socket in (second, other, again):
            await socket.disconnect()

    run(scenario)


def test_the_console_and_the_wallboard_count_together(people, settings):
    settings.SWITCHBOARD_WS_MAX_PER_USER = 1
    lead = people["sup"]
    AgentFactory(user=lead, team=people["ann"].team, name="Lead")

    async def scenario():
        board, _ = await connect("/ws/wallboard/", lead)
        assert await refused("/ws/console/", lead) == {"type": "websocket.close", "code": 4429}
        await board.disconnect()

    run(scenario)


def test_slots_held_by_another_process_count_until_they_expire(people, settings):
    """Another web process's sockets are in the same Redis set; a dead process's slots stop counting once expired."""
    settings.SWITCHBOARD_WS_MAX_PER_USER = 2
    ann = people["ann"].user

    async def scenario():
        layer = get_channel_layer()
        key = slot_key(layer, ann.pk)
        redis = layer.connection(0)
        now = time.time()
        await redis.zadd(key, {"specific.elsewhere!live": now + 60, "specific.crashed!old": now - 1})
        await redis.expire(key, 120)

        mine, _ = await connect("/ws/console/", ann)  # the crashed process's expired slot does not count
        assert await refused("/ws/console/", ann) == {"type": "websocket.close", "code": 4429}
        await redis.zrem(key, "specific.elsewhere!live")  # the other process's socket closes
        again, _ = await connect("/ws/console/", ann)

        assert await redis.zcard(key) == 2
        await mine.disconnect()
        await again.disconnect()
        assert await redis.zcard(key) == 0

    run(scenario)


def test_no_limit_when_the_setting_is_zero(people, settings):
    settings.SWITCHBOARD_WS_MAX_PER_USER = 0
    ann = people["ann"].user

    async def scenario():
        sockets = [(await connect("/ws/console/", ann))[0] for _ in range(12)]
        for socket in sockets:
            await socket.disconnect()

    run(scenario)


def test_a_live_socket_renews_its_slot_on_every_watchdog_round(people, settings):
    settings.SWITCHBOARD_WS_GAP_CHECK_SECONDS = 0.2
    ann = people["ann"].user

    async def scenario():
        layer = get_channel_layer()
        key = slot_key(layer, ann.pk)
        redis = layer.connection(0)
        socket, _ = await connect("/ws/console/", ann)
        (member,) = await redis.zrange(key, 0, -1)
        await redis.zadd(key, {member: time.time() + 1})  # as if about to expire

        await socket.receive_nothing(timeout=0.6)  # a few watchdog rounds

        assert await redis.zscore(key, member) > time.time() + 50  # renewed for another slot_ttl()
        await socket.disconnect()

    run(scenario)
