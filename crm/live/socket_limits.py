"""How many live sockets one user may hold open at once, across every web process (``crm.live.consumers``).

Each open socket holds a slot: its channel name in a Redis sorted set per user (under the channel layer's
prefix), scored with the moment the slot expires. Taking a slot drops the expired ones first and refuses when
``SWITCHBOARD_WS_MAX_PER_USER`` are held (0: no limit); a socket gives its slot back when it disconnects and
renews it on every watchdog round (``SWITCHBOARD_WS_GAP_CHECK_SECONDS``). A process that dies without
disconnecting its sockets therefore leaks its slots for at most ``slot_ttl()`` seconds. A socket refused a slot
is accepted and closed with ``CLOSE_TOO_MANY_SOCKETS`` (4429), so the browser sees why.
"""

import time

from django.conf import settings

CLOSE_TOO_MANY_SOCKETS = 4429

# Drop the expired slots, refuse over the limit (a socket renewing its own slot is never refused), take the slot.
_TAKE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local limit = tonumber(ARGV[4])
if limit > 0 and not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= limit then
    return 0
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


def slot_key(layer, user_id: int) -> str:
    return f"{layer.prefix}:ws-sockets:{user_id}"


def slot_ttl() -> int:
    """Seconds a slot lives without renewal: three watchdog rounds, at least a minute."""
    return int(max(60.0, 3 * settings.SWITCHBOARD_WS_GAP_CHECK_SECONDS))


async def slot_take(layer, *, user_id: int, channel_name: str) -> bool:
    """Take (or renew) this socket's slot; False when the user already holds the maximum."""
    now, ttl = time.time(), slot_ttl()
    taken = await layer.connection(0).eval(
        _TAKE, 1, slot_key(layer, user_id), channel_name, now, now + ttl, settings.SWITCHBOARD_WS_MAX_PER_USER, ttl
    )
    return bool(taken)


async def slot_renew(layer, *, user_id: int, channel_name: str) -> None:
    """Keep a live socket's slot from expiring (it keeps it even if the limit was lowered meanwhile)."""
    now, ttl = time.time(), slot_ttl()
    key = slot_key(layer, user_id)
    async with layer.connection(0).pipeline(transaction=False) as pipe:
        await pipe.zadd(key, {channel_name: now + ttl}).expire(key, ttl).execute()


async def slot_release(layer, *, user_id: int, channel_name: str) -> None:
    await layer.connection(0).zrem(slot_key(layer, user_id), channel_name)
