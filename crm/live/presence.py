"""Which agents have a console open, over every web process: the bookkeeping of ``crm.presence`` in Redis.

An agent's console sockets each hold an entry in a sorted set per agent (under the channel layer's prefix),
scored with the moment the entry expires: ``SWITCHBOARD_PRESENCE_TIMEOUT_SECONDS`` after the socket's last frame
from the browser (the console sends a ping every 25 s). A second sorted set, ``deadlines``, holds for each agent
the moment they count as gone if nothing changes: their latest entry's expiry plus the grace period
(``SWITCHBOARD_PRESENCE_GRACE_SECONDS``), or, once their last socket closed, that moment plus the grace period.

- ``presence_join`` / ``presence_beat`` (a frame arrived): the socket's entry moves forward, and so does the
  agent's deadline (never back: another socket may live longer).
- ``presence_leave`` (the socket closed, with or without a close frame): the entry goes; when it was the last
  live one, the deadline becomes now plus the grace period.
- ``presence_gone`` (the sweep): the agents whose deadline passed and who have no live entry left, each taken
  out of ``deadlines`` atomically, so two sweeps never report one agent twice. An agent who still has a live
  entry (a socket on another server) gets a new deadline instead.

A web process that dies takes its sockets down without ``presence_leave``: their entries expire by themselves.
Nothing is kept in a process, so any web server may serve any of an agent's sockets.
"""

import time

import redis
from django.conf import settings

_JOIN = """
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[4])
local current = tonumber(redis.call('ZSCORE', KEYS[2], ARGV[5]) or '0')
if tonumber(ARGV[3]) > current then
    redis.call('ZADD', KEYS[2], ARGV[3], ARGV[5])
end
return 1
"""

_LEAVE = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[1]) == 0 then
    redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
    return 0
end
return 1
"""

# KEYS[1] the agent's entries, KEYS[2] deadlines; ARGV: agent id, now, grace. 1: gone (and forgotten).
_GONE = """
local deadline = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not deadline or tonumber(deadline) > tonumber(ARGV[2]) then
    return 0
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local latest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if latest[2] then
    redis.call('ZADD', KEYS[2], tonumber(latest[2]) + tonumber(ARGV[3]), ARGV[1])
    return 0
end
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
"""


def _prefix() -> str:
    return f"{settings.CHANNEL_LAYERS['default']['CONFIG'].get('prefix', 'asgi')}:presence"


def agent_key(agent_id: int) -> str:
    return f"{_prefix()}:agent:{agent_id}"


def deadlines_key() -> str:
    return f"{_prefix()}:deadlines"


def _timeout() -> float:
    return float(settings.SWITCHBOARD_PRESENCE_TIMEOUT_SECONDS)


def _grace() -> float:
    return float(settings.SWITCHBOARD_PRESENCE_GRACE_SECONDS)


async def presence_join(layer, *, agent_id: int, channel_name: str) -> None:
    """A console socket of the agent opened, or a frame arrived on it: it counts as there for a while longer."""
    now = time.time()
    expires = now + _timeout()
    await layer.connection(0).eval(
        _JOIN,
        2,
        agent_key(agent_id),
        deadlines_key(),
        channel_name,
        expires,
        expires + _grace(),
        int(_timeout() + _grace()) + 60,
        agent_id,
    )


presence_beat = presence_join


async def presence_leave(layer, *, agent_id: int, channel_name: str) -> None:
    """A console socket closed; if it was the agent's last, the grace period starts now."""
    now = time.time()
    await layer.connection(0).eval(
        _LEAVE, 2, agent_key(agent_id), deadlines_key(), channel_name, now, now + _grace(), agent_id
    )


def _client() -> redis.Redis:
    return redis.Redis.from_url(settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0])


def presence_gone(*, now: float | None = None, limit: int = 500) -> list[int]:
    """The agents gone for longer than the grace period (each reported once); the sweep's question."""
    now = time.time() if now is None else now
    client = _client()
    try:
        due = client.zrangebyscore(deadlines_key(), "-inf", now, start=0, num=limit)
        gone = []
        for member in due:
            agent_id = int(member)
            if client.eval(_GONE, 2, agent_key(agent_id), deadlines_key(), agent_id, now, _grace()):
                gone.append(agent_id)
        return gone
    finally:
        client.close()


def presence_watch_again(*, agent_id: int, at: float) -> None:
    """Look at the agent again at ``at`` (an agent on a break when the sweep found them gone)."""
    client = _client()
    try:
        client.zadd(deadlines_key(), {str(agent_id): at})
    finally:
        client.close()


def presence_connected(*, agent_id: int, now: float | None = None) -> int:
    """How many live console sockets the agent has (for the supervisor's screens and the tests)."""
    now = time.time() if now is None else now
    client = _client()
    try:
        return int(client.zcount(agent_key(agent_id), f"({now}", "+inf"))
    finally:
        client.close()
