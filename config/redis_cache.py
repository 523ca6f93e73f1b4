"""Django's Redis cache backend, with one client per connection pool instead of a new one per call.

Django's ``RedisCacheClient.get_client`` builds a ``redis.Redis`` around its pool for every cache call; with
redis-py 8 that object's construction (its table of response callbacks) costs about as much CPU as the GET it
serves (throttles, django-axes and the other cache users; the project's own keys use ``config.redis_clients``,
which keeps one client per URL the same way). A client is only a handle
on its pool, safe to share between threads and kept across a fork (the pool reconnects in the child), so each
pool's is built once. Everything else — keys, serialisation, timeouts, the pools — is Django's.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            if index not in self._pools:
                self._pools[index] = self._pool_class.from_url(self._servers[index], **self._pool_options)
            client = self._clients[index] = self._client(connection_pool=self._pools[index])
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
