"""The publisher's pipelined group send: every member channel of every group gets each event once, numbered in
order, as the channel layer's own ``group_send`` would deliver it (memberships past ``group_expiry`` dropped, a
channel at capacity skipped)."""

import asyncio
import time
import uuid

import pytest
import redis
from channels.layers import get_channel_layer

from crm.live.publisher import apublish, counter_key, publish

from .conftest import run


async def _receive_all(layer, channel: str, *, timeout: float = 0.5) -> list[dict]:
    got = []
    while True:
        try:
            got.append(await asyncio.wait_for(layer.receive(channel), timeout))
        except TimeoutError:
            return got


async def _counter(layer, group: str) -> int:
    return int(await layer.connection(0).get(counter_key(group)) or 0)


@pytest.fixture(params=["apublish", "publish"])
def send(request):
    """Both ways in: a coroutine's ``apublish`` on its own loop, and synchronous code's ``publish`` (a request, a
    task: the layer's synchronous client), here from a thread as a sync view runs."""
    if request.param == "apublish":
        return apublish

    async def from_sync_code(sends):
        await asyncio.to_thread(publish, sends)

    return from_sync_code


def test_each_member_of_each_group_gets_the_events_in_order_with_consecutive_numbers(send):
    layer = get_channel_layer()

    async def scenario():
        one, two, other = [await layer.new_channel() for _ in range(3)]  # one and two share this process's key
        for channel in (one, two):
            await layer.group_add("pub.a", channel)
        await layer.group_add("pub.b", other)
        before = {group: await _counter(layer, group) for group in ("pub.a", "pub.b", "pub.empty")}
        await send(
            [
                ({"pub.a", "pub.b"}, "first", {"n": 1, "none": None, "nested": {"x": [1, 2.5, "é"]}}),
                ({"pub.a"}, "second", {"n": 2}),
                ({"pub.empty", "pub.b"}, "third", {"n": 3}),
            ]
        )
        got = {channel: await _receive_all(layer, channel) for channel in (one, two, other)}
        after = {group: await _counter(layer, group) for group in before}
        return before, after, got, (one, two, other)

    before, after, got, (one, two, other) = run(scenario)
    assert after == {"pub.a": before["pub.a"] + 2, "pub.b": before["pub.b"] + 2, "pub.empty": before["pub.empty"] + 1}
    for channel in (one, two):
        assert [(m["event"], m["gseq"]) for m in got[channel]] == [
            ("first", before["pub.a"] + 1),
            ("second", before["pub.a"] + 2),
        ]
    assert [(m["event"], m["gseq"], m["group"]) for m in got[other]] == [
        ("first", before["pub.b"] + 1, "pub.b"),
        ("third", before["pub.b"] + 2, "pub.b"),
    ]
    assert got[one][0]["data"] == {"n": 1, "none": None, "nested": {"x": [1, 2.5, "é"]}}
    assert got[one][0]["eid"] == got[other][0]["eid"] != got[one][1]["eid"]  # one id per event, across its groups
    assert got[one][0]["type"] == "live.event"


def test_a_stale_membership_is_dropped_and_a_full_channel_is_skipped_not_the_others(settings, send):
    layer = get_channel_layer()

    async def scenario():
        # named channels, each its own Redis key (a process's ``new_channel`` channels share one, and its capacity)
        stale, full, fine = (f"pub.{name}.{uuid.uuid4().hex}" for name in ("stale", "full", "fine"))
        for channel in (stale, full, fine):
            await layer.group_add("pub.c", channel)
        # ``stale`` joined longer ago than group_expiry: channels-redis forgets such a membership
        await layer.connection(0).zadd(layer._group_key("pub.c"), {stale: time.time() - layer.group_expiry - 10})
        for n in range(layer.get_capacity(full)):  # ``full`` is at capacity: nothing more is added to it
            await layer.send(full, {"type": "filler", "n": n})
        await send([({"pub.c"}, "event", {})])
        members = await layer.connection(0).zrange(layer._group_key("pub.c"), 0, -1)
        got = {channel: await _receive_all(layer, channel) for channel in (stale, full, fine)}
        return members, got, (stale, full, fine)

    members, got, (stale, full, fine) = run(scenario)
    assert stale.encode() not in members
    assert got[stale] == []
    assert [m["type"] for m in got[full]] == ["filler"] * len(got[full])
    assert [m["event"] for m in got[fine]] == ["event"]


def test_publish_from_synchronous_code_reaches_a_listener_on_another_loop():
    layer = get_channel_layer()

    async def join():
        channel = await layer.new_channel()
        await layer.group_add("pub.d", channel)
        return channel

    channel = run(join)
    publish([({"pub.d"}, "from.sync", {"ok": True})])

    async def read():
        # the first one waited for generously (a loaded machine's first receive on a new loop can take a while),
        # then whatever else came
        first = await asyncio.wait_for(layer.receive(channel), 10)
        return [first, *await _receive_all(layer, channel)]

    assert [(m["event"], m["data"]) for m in run(read)] == [("from.sync", {"ok": True})]


def test_a_channel_in_two_groups_gets_one_publish_in_its_order_and_a_full_channel_stops_mid_publish(send):
    """One publish sends each group's messages in one script: a channel in two groups still pops the events in the
    order they were published, and a channel that fills up during the publish takes what fits, in order."""
    layer = get_channel_layer()

    async def scenario():
        both, narrow = (f"pub.{name}.{uuid.uuid4().hex}" for name in ("both", "narrow"))
        for group, channel in (("pub.f", both), ("pub.g", both), ("pub.g", narrow)):
            await layer.group_add(group, channel)
        room = 3
        for n in range(layer.get_capacity(narrow) - room):  # ``narrow`` has room for three more messages
            await layer.send(narrow, {"type": "filler", "n": n})
        sends = [({"pub.f"} if n % 2 else {"pub.f", "pub.g"}, "event", {"n": n}) for n in range(8)]
        await send(sends)
        return {channel: await _receive_all(layer, channel) for channel in (both, narrow)}, (both, narrow), room

    got, (both, narrow), room = run(scenario)
    assert [(m["group"], m["data"]["n"]) for m in got[both]] == [
        (group, n) for n in range(8) for group in (("pub.f",) if n % 2 else ("pub.f", "pub.g"))
    ]
    events = [m for m in got[narrow] if m["type"] == "live.event"]
    assert [m["data"]["n"] for m in events] == [0, 2, 4]  # its group's first three, then it was full
    assert len(events) == room


def test_a_layer_without_an_address_publishes_through_the_loop(settings):
    """A host given as host and port (no address) has no synchronous client: ``publish`` hands the send to the
    publisher loop, and it still arrives."""
    url = settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]
    client = redis.Redis.from_url(url)
    kwargs = client.connection_pool.connection_kwargs
    host = {"host": kwargs["host"], "port": kwargs["port"], "db": kwargs.get("db", 0)}
    settings.CHANNEL_LAYERS = {
        "default": {**settings.CHANNEL_LAYERS["default"], "CONFIG": {**settings.CHANNEL_LAYERS["default"]["CONFIG"],
                                                                     "hosts": [host]}}
    }  # fmt: skip
    layer = get_channel_layer()
    assert layer.sync_redis() is None

    async def join():
        channel = await layer.new_channel()
        await layer.group_add("pub.e", channel)
        return channel

    channel = run(join)
    publish([({"pub.e"}, "through.loop", {"n": 1}), ({"pub.e"}, "through.loop", {"n": 2})])

    async def read():
        return await _receive_all(layer, channel)

    assert [m["data"]["n"] for m in run(read)] == [1, 2]


@pytest.fixture(autouse=True)
def _clean_groups():
    """The groups, counters and channels these tests made are real Redis keys: none is left behind."""
    from django.conf import settings

    url, prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0], get_channel_layer().prefix
    yield
    client = redis.Redis.from_url(url)
    for key in client.scan_iter(f"{prefix}*pub.*"):
        client.delete(key)
