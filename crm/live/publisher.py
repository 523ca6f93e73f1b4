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
from collections import Counter
from collections.abc import Callable, Iterator
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


Sends = list[tuple[set[str], str, dict[str, Any]]]
# ``publish``'s optional hook: queue commands on the pipeline, answer what takes their replies
Then = Callable[[Any, Any], Callable[[list], None] | None]

# The first round of a publish, in one script: reserve each group's numbers (one INCRBY each) and read its members,
# dropping memberships older than group_expiry first, as channels-redis's ``group_send`` does. KEYS: the groups'
# counters, then their member sets; ARGV: each group's number of events, then the cutoff of stale memberships.
# Answers each counter's last number, then each group's members.
NUMBER_AND_MEMBERS_LUA = """
    local groups = #KEYS / 2
    local out = {}
    for i = 1, groups do
        out[i] = redis.call('INCRBY', KEYS[i], ARGV[i])
    end
    for i = 1, groups do
        redis.call('ZREMRANGEBYSCORE', KEYS[groups + i], 0, ARGV[groups + 1])
        out[groups + i] = redis.call('ZRANGE', KEYS[groups + i], 0, -1)
    end
    return out
"""

# channels-redis's own group-send script (``RedisChannelLayer.group_send``, 4.3), for several messages to one group's
# channels at once: each channel's expired messages are dropped, then each message, in order, is added to each
# channel's sorted set (at its own score) unless the channel is at capacity; returns how many were over. ARGV: the
# number of messages, the expiry, the cutoff of expired messages, each key's capacity, each message's score, then
# the messages (for message 1 one per key, then message 2's…).
GROUP_SEND_MANY_LUA = """
    local messages = tonumber(ARGV[1])
    local expiry = ARGV[2]
    local keys = #KEYS
    local over_capacity = 0
    for i = 1, keys do
        redis.call('ZREMRANGEBYSCORE', KEYS[i], 0, ARGV[3])
    end
    for j = 1, messages do
        local score = ARGV[3 + keys + j]
        for i = 1, keys do
            if redis.call('ZCOUNT', KEYS[i], '-inf', '+inf') < tonumber(ARGV[3 + i]) then
                redis.call('ZADD', KEYS[i], score, ARGV[3 + keys + messages + (j - 1) * keys + i])
                redis.call('EXPIRE', KEYS[i], expiry)
            else
                over_capacity = over_capacity + 1
            end
        end
    end
    return over_capacity
"""


def _first_round(pipe, layer, plan: list[str], distinct: list[str]) -> None:
    """Queue the script that reserves each group's numbers (its events', together) and reads its members."""
    counts = Counter(plan)
    keys = [counter_key(group) for group in distinct] + [layer._group_key(group) for group in distinct]
    cutoff = int(time.time()) - layer.group_expiry
    pipe.eval(NUMBER_AND_MEMBERS_LUA, len(keys), *keys, *(counts[group] for group in distinct), cutoff)


def _second_round(pipe, layer, sends: Sends, plan: list[str], distinct: list[str], replies) -> list:
    """Queue every message into its groups' channels, one script per group for all of its messages; answers
    ``(group, channels, position)`` per script.

    A group's events take the numbers its INCRBY reserved, in sending order (consecutive: no other publisher's
    number falls between two events of one publish). Scores rise strictly in sending order across all groups, so a
    channel in several groups pops this process's messages in the order they were published."""
    counts, (answer,) = Counter(plan), replies
    last = dict(zip(distinct, answer[: len(distinct)], strict=True))
    numbers = {group: iter(range(last[group] - counts[group] + 1, last[group] + 1)) for group in distinct}
    members = {group: [name.decode() for name in answer[len(distinct) + i]] for i, group in enumerate(distinct)}
    batches: dict[str, tuple[list, dict, list, list]] = {}  # group: its keys, their capacity, scores, messages
    stamp = 0.0
    for groups, event, data in sends:
        message = {"type": MESSAGE_TYPE, "eid": uuid.uuid4().hex, "event": event, "data": data}
        for group in sorted(groups):
            number = next(numbers[group])
            if not members[group]:
                continue
            by_connection, serialized, capacity = layer._map_channel_keys_to_connection(
                members[group], {**message, "group": group, "gseq": number}
            )
            keys = by_connection[0]  # the same keys, in the same order, for every message of this group
            batch = batches.setdefault(group, (keys, capacity, [], []))
            stamp = max(time.time(), stamp + 1e-6)
            batch[2].append(stamp)
            batch[3].extend(serialized[key] for key in keys)
    expired = int(time.time()) - int(layer.expiry)
    sent: list[tuple[str, int, int]] = []
    for group, (keys, capacity, scores, messages) in batches.items():
        sent.append((group, len(members[group]), len(pipe)))
        pipe.eval(
            GROUP_SEND_MANY_LUA,
            len(keys),
            *keys,
            len(scores),
            layer.expiry,
            expired,
            *(capacity[key] for key in keys),
            *scores,
            *messages,
        )
    return sent


def _log_over_capacity(sent: list, replies) -> None:
    for group, channels, position in sent:
        if dropped := replies[position]:
            logger.info("%s of %s channels over capacity in group %s", dropped, channels, group)


def _pipelined(layer) -> bool:
    """On one Redis (the layer's usual configuration) a send is two pipelined round trips for all events and
    groups; several Redis hosts (a sharded layer) or another layer: the layer's own ``group_send``."""
    return getattr(layer, "ring_size", None) == 1 and hasattr(layer, "_map_channel_keys_to_connection")


async def _send(sends: Sends) -> None:
    """Number and send ``(groups, event, data)`` in order, on the running loop's Redis pool.

    On one Redis this is channels-redis's ``group_send`` done in two pipelined round trips for all the events and
    groups: one script numbering the events and reading the groups' members, then one script per group adding its
    messages to its channels. ``group_send``
    itself takes four round trips per group and event, plus ours for the number (about 0.65 ms of CPU per event
    and group, measured; the machine's busiest code path under chat load).
    """
    layer = get_channel_layer()
    plan = [group for groups, _, _ in sends for group in sorted(groups)]
    if layer is None or not plan:
        return
    if not _pipelined(layer):
        await _send_each(layer, sends, plan)
        return
    # ``connection`` is the layer's own pool for the running event loop, so no second client is kept.
    connection = layer.connection(0)
    distinct = sorted(set(plan))
    async with connection.pipeline(transaction=False) as pipe:
        _first_round(pipe, layer, plan, distinct)
        replies = await pipe.execute()
    async with connection.pipeline(transaction=False) as pipe:
        sent = _second_round(pipe, layer, sends, plan, distinct, replies)
        replies = await pipe.execute() if sent else []
    _log_over_capacity(sent, replies)


def _send_blocking(sends: Sends, then: Then | None = None) -> bool:
    """``_send`` from synchronous code, on the layer's synchronous client (``SwitchboardChannelLayer.sync_redis``):
    the same two round trips, without handing the work to the publisher loop's thread and back (a thread switch
    and an event loop's turns per publish, a fifth of a create's after-commit CPU, measured). Answers False when
    this layer has no synchronous client: the caller goes through the loop. ``then`` (see ``publish``) rides on
    the first round; its replies are handed over once the events are sent."""
    layer = get_channel_layer()
    client = layer.sync_redis() if hasattr(layer, "sync_redis") and _pipelined(layer) else None
    if client is None:
        return False
    plan = [group for groups, _, _ in sends for group in sorted(groups)]
    if not plan:
        return True
    distinct = sorted(set(plan))
    with client.pipeline(transaction=False) as pipe:
        _first_round(pipe, layer, plan, distinct)
        queued = len(pipe)
        finish = then(pipe, client) if then is not None else None
        replies = pipe.execute()
    theirs, replies = replies[queued:], replies[:queued]
    with client.pipeline(transaction=False) as pipe:
        sent = _second_round(pipe, layer, sends, plan, distinct, replies)
        replies = pipe.execute() if sent else []
    _log_over_capacity(sent, replies)
    if finish is not None:
        finish(theirs)  # once the events are sent
    return True


async def _send_each(layer, sends: Sends, plan: list[str]) -> None:
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
def gathered() -> Iterator[Sends]:
    """Within the block, ``publish`` keeps its sends in the list this yields instead of sending them: for a caller on
    a worker thread of a consumer (the widget's message) that sends them with its own, in one ``apublish`` from its
    loop (one pair of round trips for all, no hop to the publisher loop). The caller must send the list."""
    sends: Sends = []
    token = _gathering.set(sends)
    try:
        yield sends
    finally:
        _gathering.reset(token)


def publish(sends: Sends, *, then: Then | None = None) -> None:
    """Send events from synchronous code (signal receivers); a failure is logged, never raised. Inside
    ``gathered()``, kept for its caller to send.

    ``then(pipe, client)`` may queue commands of the caller's own with the first round (in the same round trip, on the
    layer's synchronous client) and answer a function that gets their replies once the events are sent, or None to
    queue nothing. It is called only when the events go that way: the caller must see for itself whether its
    function ran."""
    if not sends:
        return
    kept = _gathering.get()
    if kept is not None:
        kept.extend(sends)
        return
    try:
        if not _send_blocking(sends, then):
            _publisher.run(_send(sends), timeout=PUBLISH_TIMEOUT_SECONDS)
    except Exception:
        logger.exception("live events: could not publish %s", ", ".join(event for _, event, _ in sends))


async def apublish(sends: Sends) -> None:
    """``publish`` from a coroutine (a consumer, after its database work committed): on the caller's own loop, no
    thread hop; a failure is logged, never raised."""
    if not sends:
        return
    try:
        await asyncio.wait_for(_send(sends), timeout=PUBLISH_TIMEOUT_SECONDS)
    except Exception:
        logger.exception("live events: could not publish %s", ", ".join(event for _, event, _ in sends))


def publish_or_raise(sends: Sends) -> None:
    """As ``publish``, for a caller that must know the events left (an outbox marking a delivery sent)."""
    if sends and not _send_blocking(sends):
        _publisher.run(_send(sends), timeout=PUBLISH_TIMEOUT_SECONDS)
