"""The channel layer's Redis pools wait for a free connection (``config.channel_layer``): a burst of socket
operations in one process larger than its pool — consoles reconnecting together after a restart — all succeed.

redis-py 8's own asyncio pool raised ``MaxConnectionsError`` past 100 connections, and channels-redis's layer used
it: 300 group joins at once failed 200 of them. Real Redis, the real layer."""

import asyncio

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
