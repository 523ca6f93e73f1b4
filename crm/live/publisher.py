"""Sending live events to the websocket groups: group names, per-group sequence numbers, one publisher loop.

Each message carries ``gseq``, a per-group counter taken from Redis before it is sent, and ``eid``, the event's
id across its groups (see ``crm.live.events`` for the protocol and ``crm.live.consumers`` for the receiving side).
Publishing never breaks the caller: a Redis error is logged. A consumer publishes with ``apublish`` on its own loop;
synchronous code (receivers, services) with ``publish``, through the process's publisher loop.
"""

import asyncio
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

WALLBOARD_ALL = "wallboard.all"
MESSAGE_TYPE = "live.event"  # handled by ``LiveConsumer.live_event``
# A publisher waits this long for Redis before it gives up (and logs): the caller's request is waiting.
PUBLISH_TIMEOUT_SECONDS = 5.0


def agent_group(agent_id: int) -> str:
    return f"agent.{agent_id}"


def queue_group(queue_id: int) -> str:
    return f"queue.{queue_id}"


def team_group(team_id: int) -> str:
    return f"team.{team_id}"


def counter_key(group: str) -> str:
    """The Redis key of a group's event counter (next to the layer's own keys, under its prefix)."""
    prefix = getattr(get_channel_layer(), "prefix", "switchboard")
    return f"{prefix}:live:seq:{group}"


# channels-redis's own group-send script (``RedisChannelLayer.group_send``, 4.3): each channel's message is added to
# its sorted set unless the channel is at capacity; returns how many were over.
GROUP_SEND_LUA = """
    local over_capacity = 0
    local current_time = ARGV[#ARGV - 1]
    local expiry = ARGV[#ARGV]
    for i=1,#KEYS do
        if redis.call('ZCOUNT', KEYS[i], '-inf', '+inf') < tonumber(ARGV[i + #KEYS]) then
            redis.call('ZADD', KEYS[i], current_time, ARGV[i])
            redis.call('EXPIRE', KEYS[i], expiry)
        else
            over_capacity = over_capacity + 1
        end
    end
    return over_capacity
"""


async def _send(sends: list[tuple[set[str], str, dict[str, Any]]]) -> None:
    """Number and send ``(groups, event, data)`` in order, on the running loop's Redis pool.

    On one Redis (the layer's usual configuration) this is channels-redis's ``group_send`` done in two pipelined
    round trips for all the events and groups: the counters' INCRs with the groups' members, then every channel's
    expiry and add. ``group_send`` itself takes four round trips per group and event, plus ours for the number
    (about 0.65 ms of CPU per event and group, measured; the machine's busiest code path under chat load). Several
    Redis hosts (a sharded layer) or another layer: the layer's own ``group_send``, event after event.
    """
    layer = get_channel_layer()
    plan = [group for groups, _, _ in sends for group in sorted(groups)]
    if layer is None or not plan:
        return
    if getattr(layer, "ring_size", None) != 1 or not hasattr(layer, "_map_channel_keys_to_connection"):
        await _send_each(layer, sends, plan)
        return
    # ``connection`` is the layer's own pool for the running event loop, so no second client is kept.
    connection = layer.connection(0)
    distinct = sorted(set(plan))
    async with connection.pipeline(transaction=False) as pipe:
        for group in plan:
            pipe.incr(counter_key(group))
        now = int(time.time())
        for group in distinct:  # memberships older than group_expiry are dropped first, as group_send does
            pipe.zremrangebyscore(layer._group_key(group), min=0, max=now - layer.group_expiry)
            pipe.zrange(layer._group_key(group), 0, -1)
        replies = await pipe.execute()
    numbered = iter(replies[: len(plan)])
    members = {group: [name.decode() for name in replies[len(plan) + 2 * i + 1]] for i, group in enumerate(distinct)}
    sent: list[tuple[str, int, int]] = []  # group, its channels, the position of its script's answer
    async with connection.pipeline(transaction=False) as pipe:
        stamp = 0.0
        for groups, event, data in sends:
            message = {"type": MESSAGE_TYPE, "eid": uuid.uuid4().hex, "event": event, "data": data}
            for group in sorted(groups):
                number = next(numbered)
                if not members[group]:
                    continue
                by_connection, serialized, capacity = layer._map_channel_keys_to_connection(
                    members[group], {**message, "group": group, "gseq": number}
                )
                keys = by_connection[0]
                for key in keys:  # a channel's expired messages go first, as group_send does
                    pipe.zremrangebyscore(key, min=0, max=int(time.time()) - int(layer.expiry))
                sent.append((group, len(members[group]), len(pipe)))
                # a channel pops by score: strictly increasing, so this process's events keep their order
                stamp = max(time.time(), stamp + 1e-6)
                pipe.eval(
                    GROUP_SEND_LUA,
                    len(keys),
                    *keys,
                    *(serialized[key] for key in keys),
                    *(capacity[key] for key in keys),
                    stamp,
                    layer.expiry,
                )
        replies = await pipe.execute() if sent else []
    for group, channels, position in sent:
        if dropped := replies[position]:
            logger.info("%s of %s channels over capacity in group %s", dropped, channels, group)


async def _send_each(layer, sends: list[tuple[set[str], str, dict[str, Any]]], plan: list[str]) -> None:
    """``_send`` through the layer's ``group_send``: one pipelined INCR for all, then the sends."""
    async with layer.connection(0).pipeline(transaction=False) as pipe:
        for group in plan:
            pipe.incr(counter_key(group))
        numbers = await pipe.execute()
    numbered = iter(numbers)
    for groups, event, data in sends:
        message = {"type": MESSAGE_TYPE, "eid": uuid.uuid4().hex, "event": event, "data": data}
        # one event's groups at once; events one after the other, so a group sees them in order
        await asyncio.gather(
            *(layer.group_send(group, {**message, "group": group, "gseq": next(numbered)}) for group in sorted(groups))
        )


class _PublisherLoop:
    """One event loop per process, in a daemon thread, that all synchronous publishers hand their sends to.

    ``async_to_sync`` from a Celery worker or a management command would make an event loop, and with it
    a new Redis connection pool, for every event (about 5 ms each, measured); this loop keeps the layer's
    pool open. Started on first use and again after a fork (Celery's prefork children), since a thread does
    not survive a fork.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pid = 0

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid() or not (self._thread and self._thread.is_alive()):
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=self._loop.run_forever, name="live-events", daemon=True)
                self._thread.start()
                self._pid = os.getpid()
            return self._loop

    def run(self, coroutine, *, timeout: float) -> None:
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop())
        try:
            future.result(timeout)
        except FutureTimeout:
            future.cancel()
            raise


_publisher = _PublisherLoop()


_gathering: ContextVar[list | None] = ContextVar("live_events_gathering", default=None)


@contextmanager
def gathered() -> Iterator[list[tuple[set[str], str, dict[str, Any]]]]:
    """Within the block, ``publish`` keeps its sends in the list this yields instead of sending them: for a caller on
    a worker thread of a consumer (the widget's message) that sends them with its own, in one ``apublish`` from its
    loop (one pair of round trips for all, no hop to the publisher loop). The caller must send the list."""
    sends: list[tuple[set[str], str, dict[str, Any]]] = []
    token = _gathering.set(sends)
    try:
        yield sends
    finally:
        _gathering.reset(token)


def publish(sends: list[tuple[set[str], str, dict[str, Any]]]) -> None:
    """Send events from synchronous code (signal receivers); a failure is logged, never raised. Inside
    ``gathered()``, kept for its caller to send."""
    if not sends:
        return
    kept = _gathering.get()
    if kept is not None:
        kept.extend(sends)
        return
    try:
        _publisher.run(_send(sends), timeout=PUBLISH_TIMEOUT_SECONDS)
    except Exception:
        logger.exception("live events: could not publish %s", ", ".join(event for _, event, _ in sends))


async def apublish(sends: list[tuple[set[str], str, dict[str, Any]]]) -> None:
    """``publish`` from a coroutine (a consumer, after its database work committed): on the caller's own loop, no
    thread hop; a failure is logged, never raised."""
    if not sends:
        return
    try:
        await asyncio.wait_for(_send(sends), timeout=PUBLISH_TIMEOUT_SECONDS)
    except Exception:
        logger.exception("live events: could not publish %s", ", ".join(event for _, event, _ in sends))


def publish_or_raise(sends: list[tuple[set[str], str, dict[str, Any]]]) -> None:
    """As ``publish``, for a caller that must know the events left (an outbox marking a delivery sent)."""
    if sends:
        _publisher.run(_send(sends), timeout=PUBLISH_TIMEOUT_SECONDS)
