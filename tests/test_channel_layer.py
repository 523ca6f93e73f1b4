"""The channel layer's Redis pools wait for a free connection (``config.channel_layer``): a burst of socket
operations in one process larger than its pool — consoles reconnecting together after a restart — all succeed.

redis-py 8's own asyncio pool raised ``MaxConnectionsError`` past 100 connections, and channels-redis's layer used
it: 300 group joins at once failed 200 of them. Real Redis, the real layer."""

import asyncio
import contextlib

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer
from django.test import override_settings

from config.channel_layer import SwitchboardChannelLayer


async def _join_all(layer, group: str, count: int) -> tuple[list[str], list[BaseException]]:
    names = [await layer.new_channel() for _ in range(count)]
    results = await asyncio.gather(*(layer.group_add(group, name) for name in names), return_exceptions=True)
    return names, [result for result in results if isinstance(result, BaseException)]


async def _burst(layer, group: str, count: int):
    try:
        names, failed = await _join_all(layer, group, count)
        # every member that joined hears the group's message
        await layer.group_send(group, {"type": "burst.hello"})
        heard = await asyncio.gather(*(layer.receive(name) for name in names[:5]))
        return failed, heard
    finally:
        await layer.flush()


def test_a_burst_larger_than_the_pool_waits_for_connections_instead_of_failing(settings):
    layer = SwitchboardChannelLayer(**{**settings.CHANNEL_LAYERS["default"]["CONFIG"], "prefix": "ours-burst-test"})
    with override_settings(CHANNELS_REDIS_MAX_CONNECTIONS=20):  # read when the pool is made, in the burst
        failed, heard = async_to_sync(_burst)(layer, "burst.ours", 150)
    assert failed == []
    assert [message["type"] for message in heard] == ["burst.hello"] * 5


def test_the_stock_pool_fails_such_a_burst(settings):
    # what config.channel_layer is for: channels-redis's own pool, capped the same way, raises past its cap
    config = {
        **settings.CHANNEL_LAYERS["default"]["CONFIG"],
        "prefix": "stock-burst-test",
        "hosts": [{"address": settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0], "max_connections": 20}],
    }
    failed, _ = async_to_sync(_burst_failures_only)(RedisChannelLayer(**config), "burst.stock", 150)
    assert failed and all(type(error).__name__ == "MaxConnectionsError" for error in failed)


async def _burst_failures_only(layer, group: str, count: int):
    try:
        _, failed = await _join_all(layer, group, count)
        return failed, None
    finally:
        await layer.flush()


def test_the_project_uses_it():
    assert type(get_channel_layer()) is SwitchboardChannelLayer


# One pop for everything waiting (config.channel_layer.SwitchboardChannelLayer.receive_single)


def _layer(settings, prefix: str) -> SwitchboardChannelLayer:
    return SwitchboardChannelLayer(**{**settings.CHANNEL_LAYERS["default"]["CONFIG"], "prefix": prefix})


async def _waiting_then_received(layer, sockets: int, each: int):
    try:
        names = [await layer.new_channel() for _ in range(sockets)]
        for number in range(each):  # interleaved, as a burst of events to many sockets arrives
            for name in names:
                await layer.send(name, {"type": "live.event", "number": number})
        process_key = layer.prefix + layer.non_local_name(names[0])
        waiting = await layer.connection(0).zcard(process_key)
        first = await layer.receive(names[0])
        left_in_redis = await layer.connection(0).zcard(process_key)
        received = {names[0]: [first["number"]]}
        for name in names:
            while len(received.setdefault(name, [])) < each:
                received[name].append((await layer.receive(name))["number"])
        return waiting, left_in_redis, [received[name] for name in names]
    finally:
        await layer.flush()


def test_one_receive_takes_every_message_waiting_for_the_process(settings):
    layer = _layer(settings, "ours-batch-test")
    waiting, left, received = async_to_sync(_waiting_then_received)(layer, sockets=30, each=3)
    assert waiting == 90
    # channels-redis pops one message per receive (four round trips each): 89 would still be waiting in Redis
    assert left == 0
    assert received == [[0, 1, 2]] * 30  # each socket's messages, all of them, in the order sent


async def _cancel_storm(layer, messages: int):
    try:
        name = await layer.new_channel()
        other = await layer.new_channel()  # a second socket whose receivers keep being cancelled
        got = []

        async def keep_cancelling():
            while len(got) < messages:
                task = asyncio.ensure_future(layer.receive(other))
                await asyncio.sleep(0.001)
                task.cancel()

        async def receive_all():
            while len(got) < messages:
                got.append((await layer.receive(name))["number"])

        async def send_all():
            for number in range(messages):
                await layer.send(name, {"type": "live.event", "number": number})
                if number % 7 == 0:
                    await asyncio.sleep(0.002)

        await asyncio.wait_for(asyncio.gather(keep_cancelling(), receive_all(), send_all()), timeout=30)
        return got
    finally:
        await layer.flush()


def test_receivers_cancelled_mid_pop_lose_and_double_nothing(settings):
    # a socket closing while the process's pop is in flight: what the pop took goes to the next receiver
    layer = _layer(settings, "ours-cancel-test")
    assert async_to_sync(_cancel_storm)(layer, 300) == list(range(300))


async def _plain_channel_round_trip(layer):
    try:
        await layer.send("worker.jobs", {"type": "job", "number": 1})
        await layer.send("worker.jobs", {"type": "job", "number": 2})
        return [(await layer.receive("worker.jobs"))["number"] for _ in range(2)]
    finally:
        await layer.flush()


def test_a_channel_outside_the_process_keeps_channels_redis_receive(settings):
    assert async_to_sync(_plain_channel_round_trip)(_layer(settings, "ours-plain-test")) == [1, 2]


async def _receive_briefly(layer, name: str) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(layer.receive(name), 0.2)  # nothing comes: its pop is left waiting as the loop ends


async def _send_and_receive(layer):
    try:
        name = await layer.new_channel()  # a socket of the new loop: the same process channel
        await layer.send(name, {"type": "live.event", "number": 7})
        return await asyncio.wait_for(layer.receive(name), 10)
    finally:
        await layer.flush()


def test_a_pop_left_waiting_by_an_ended_event_loop_does_not_hold_up_the_next_loop(settings):
    # a test's or a restarted worker's loop ends while the process's pop waits; the layer lives on
    layer = _layer(settings, "ours-loops-test")
    name = async_to_sync(layer.new_channel)()
    loop = asyncio.new_event_loop()  # ends without cancelling what it still runs (asgiref's loops cancel it)
    try:
        loop.run_until_complete(_receive_briefly(layer, name))
        assert layer._pumps  # the pop still waits in Redis, its loop about to end
    finally:
        loop.close()
    assert async_to_sync(_send_and_receive)(layer)["number"] == 7
