"""The channel layer: channels-redis's, with Redis connection pools that wait for a free connection.

redis-py 8 caps an asyncio connection pool at 100 connections by default and raises ``MaxConnectionsError`` at
once when a 101st is wanted. A web process's sockets share one pool per event loop, so a burst of more than 100
at once — consoles reconnecting after a restart, 200 consoles closing together — had group joins, presence
records and sends fail outright (a console then missed its groups' events until it reconnected). Here each pool
is redis-py's ``BlockingConnectionPool``: at most ``CHANNELS_REDIS_MAX_CONNECTIONS`` connections per process and
loop, and a caller over that waits (up to ``POOL_WAIT_SECONDS``) for one to come back instead of failing.
Sentinel or host/port configurations keep channels-redis's own pools.

A process's sockets receive through one blocking pop that takes every message waiting for the process at once (see
``receive_single``) instead of channels-redis's four round trips per message.

``sync_redis`` is a synchronous client on the same Redis, for code outside an event loop that publishes live
events (``crm.live.publisher``): a request, a Celery task.
"""

import asyncio
import threading
from collections import deque

import redis
from channels_redis.core import RedisChannelLayer
from django.conf import settings
from redis import asyncio as aioredis

# How long a caller waits for a free connection before redis-py raises; a healthy Redis answers in microseconds,
# so this only bounds a stall.
POOL_WAIT_SECONDS = 10
# The most messages one receive takes off the process's channel in one round trip.
RECEIVE_BATCH = 200
# A synchronous publisher waits this long for Redis before it gives up (and logs): a request is waiting.
SYNC_SOCKET_TIMEOUT_SECONDS = 5


class SwitchboardChannelLayer(RedisChannelLayer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._popped: dict[str, deque] = {}  # a process channel: messages taken off Redis, not yet handed out
        self._pumps: dict[str, asyncio.Future] = {}  # a process channel: its pop in flight

    async def receive_single(self, channel):
        """The next message of the process's channel (``specific.<process>!``, shared by its sockets), taken with
        every other waiting one in one round trip: ``BZPOPMIN`` and ``ZPOPMIN … RECEIVE_BATCH`` pipelined.

        channels-redis spends four round trips on each message (restore a backup set, pop, copy to the backup, clear
        it) so that a receive cancelled mid-pop loses nothing. Here the pop runs in a task of its own that a
        cancelled receiver does not cancel: what it took waits in ``_popped`` for the next receiver. Lost is only
        what a dying process held, and its sockets die with it. Other channels keep channels-redis's receive."""
        if "!" not in channel:
            return await super().receive_single(channel)
        popped = self._popped.setdefault(channel, deque())
        while not popped:
            pump = self._pumps.get(channel)
            if pump is None:
                pump = self._pumps[channel] = asyncio.ensure_future(self._pop(channel, popped))
            await asyncio.shield(pump)
        message = self.deserialize(popped.popleft())
        return message.pop("__asgi_channel__", channel), message

    async def _pop(self, channel: str, into: deque) -> None:
        try:
            async with self.connection(self.consistent_hash(channel)).pipeline(transaction=False) as pipe:
                key = self.prefix + channel
                pipe.bzpopmin(key, timeout=self.brpop_timeout)
                pipe.zpopmin(key, RECEIVE_BATCH)
                first, rest = await pipe.execute()
            if first is not None:
                into.append(first[1])
            into.extend(member for member, _score in rest)
        finally:
            self._pumps.pop(channel, None)

    async def close_pools(self):
        for pump in list(self._pumps.values()):  # a pop waiting on a pool about to close
            pump.cancel()
        await super().close_pools()

    def create_pool(self, index):
        host = dict(self.hosts[index])
        if "address" not in host:
            return super().create_pool(index)
        address = host.pop("address")
        host.setdefault("max_connections", settings.CHANNELS_REDIS_MAX_CONNECTIONS)
        host.setdefault("timeout", POOL_WAIT_SECONDS)
        return aioredis.BlockingConnectionPool.from_url(address, **host)

    def sync_redis(self) -> redis.Redis | None:
        """A synchronous client on the first host (an address; None for sentinel or host/port configurations), made
        once per layer. Its pool is thread-safe and starts afresh in a forked child (redis-py checks the pid)."""
        client = getattr(self, "_sync_redis", None)
        if client is not None:
            return client
        with _SYNC_LOCK:
            if getattr(self, "_sync_redis", None) is None:
                host = dict(self.hosts[0])
                address = host.pop("address", None)
                if address is None:
                    return None
                self._sync_redis = redis.Redis(
                    connection_pool=redis.BlockingConnectionPool.from_url(
                        address,
                        max_connections=settings.CHANNELS_REDIS_MAX_CONNECTIONS,
                        timeout=POOL_WAIT_SECONDS,
                        socket_timeout=SYNC_SOCKET_TIMEOUT_SECONDS,
                        socket_connect_timeout=SYNC_SOCKET_TIMEOUT_SECONDS,
                    )
                )
            return self._sync_redis


_SYNC_LOCK = threading.Lock()
