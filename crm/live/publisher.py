"""Sending live events to the websocket groups: group names, per-group sequence numbers, one publisher loop.

Each message carries ``gseq``, a per-group counter taken from Redis before it is sent, and ``eid``, the event's
id across its groups (see ``crm.live.events`` for the protocol and ``crm.live.consumers`` for the receiving side).
Publishing never breaks the caller: a Redis error is logged.
"""

import asyncio
import logging
import os
import threading
import uuid
from concurrent.futures import TimeoutError as FutureTimeout
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


async def _send(sends: list[tuple[set[str], str, dict[str, Any]]]) -> None:
    """Number and send ``(groups, event, data)`` in order: one pipelined INCR for all, then the group sends."""
    layer = get_channel_layer()
    plan = [group for groups, _, _ in sends for group in sorted(groups)]
    if layer is None or not plan:
        return
    # ``connection`` is the layer's own pool for the running event loop, so no second client is kept.
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


def publish(sends: list[tuple[set[str], str, dict[str, Any]]]) -> None:
    """Send events from synchronous code (signal receivers); a failure is logged, never raised."""
    if not sends:
        return
    try:
        _publisher.run(_send(sends), timeout=PUBLISH_TIMEOUT_SECONDS)
    except Exception:
        logger.exception("live events: could not publish %s", ", ".join(event for _, event, _ in sends))


def publish_or_raise(sends: list[tuple[set[str], str, dict[str, Any]]]) -> None:
    """As ``publish``, for a caller that must know the events left (an outbox marking a delivery sent)."""
    if sends:
        _publisher.run(_send(sends), timeout=PUBLISH_TIMEOUT_SECONDS)
