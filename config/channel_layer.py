"""The channel layer: channels-redis's, with Redis connection pools that wait for a free connection.

redis-py 8 caps an asyncio connection pool at 100 connections by default and raises ``MaxConnectionsError`` at
once when a 101st is wanted. A web process's sockets share one pool per event loop, so a burst of more than 100
at once — consoles reconnecting after a restart, 200 consoles closing together — had group joins, presence
records and sends fail outright (a console then missed its groups' events until it reconnected). Here each pool
is redis-py's ``BlockingConnectionPool``: at most ``CHANNELS_REDIS_MAX_CONNECTIONS`` connections per process and
loop, and a caller over that waits (up to ``POOL_WAIT_SECONDS``) for one to come back instead of failing.
Sentinel or host/port configurations keep channels-redis's own pools.
"""

from channels_redis.core import RedisChannelLayer
from django.conf import settings
from redis import asyncio as aioredis

# How long a caller waits for a free connection before redis-py raises; a healthy Redis answers in microseconds,
# so this only bounds a stall.
POOL_WAIT_SECONDS = 10


class SwitchboardChannelLayer(RedisChannelLayer):
    def create_pool(self, index):
        host = dict(self.hosts[index])
        if "address" not in host:
            return super().create_pool(index)
        address = host.pop("address")
        host.setdefault("max_connections", settings.CHANNELS_REDIS_MAX_CONNECTIONS)
        host.setdefault("timeout", POOL_WAIT_SECONDS)
        return aioredis.BlockingConnectionPool.from_url(address, **host)
