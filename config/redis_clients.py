"""One synchronous Redis client per URL and process, for the project's own keys (marks, tokens, counters).

``redis.Redis.from_url`` builds a client and its connection pool; Django's ``RedisCache`` builds a client on
every call (about 0.1 ms of CPU for a GET, against 0.025 ms on a kept client, measured). The pool is thread-safe
and starts afresh in a forked child (redis-py checks the pid), so one kept client serves every thread of a web
process or a Celery child.
"""

from functools import cache

import redis
from django.conf import settings

# What a call on a kept client may raise when Redis or its socket fails: under load redis-py 8 has let a socket's
# ValueError / AttributeError out of a pipeline as well (bench/create_vs_helpdesk.py saw both). Callers that must
# not fail a committed change (marks, figures) catch these, log and carry on.
REDIS_ERRORS = (redis.RedisError, OSError, ValueError, AttributeError)
SOCKET_TIMEOUT_SECONDS = 5  # a stalled Redis fails the call (the callers log and carry on) instead of hanging


@cache
def client_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=SOCKET_TIMEOUT_SECONDS)


def instance_key(*parts: object) -> str:
    """A key of the project's own on a Redis that several installations may share (a benchmark beside the
    development server, two centers): ``<SWITCHBOARD_INSTANCE>:<part>:<part>…``, so each keeps its own marks,
    locks, tokens and counters."""
    return ":".join((settings.SWITCHBOARD_INSTANCE, *map(str, parts)))


def shared() -> redis.Redis:
    """The client of ``REDIS_URL`` (looked up on each call: a test may point the setting elsewhere)."""
    return client_for(settings.REDIS_URL)
