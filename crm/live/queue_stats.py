"""Queue figures (``queue.stats``) published at most once per queue per short interval, whatever the rate of change.

Counting a queue's waiting and working interactions reads every open interaction of the queue: done after every
create, assignment or resolve, it would make each change cost more the more work waits — exactly when a center is
busiest. So a change only marks its queues *dirty*, and the figures follow a moment later, once for everything
that changed meanwhile:

1. ``queue_stats_changed`` (after the change committed, in the caller's thread): one pipelined round trip to
   Redis — add the queues to the dirty set, and take the flush lock if nobody holds it. Whoever takes the lock
   starts a flusher ``SWITCHBOARD_QUEUE_STATS_DELAY_SECONDS`` later, in a thread of its own process. Every other
   change meanwhile (in any process) only adds to the set.
2. The flusher, holding the lock, takes the dirty set (a Lua script), reads the figures of those queues in one
   aggregate and publishes them; then waits the delay and looks again, and only when the set is empty lets the
   lock go, in the same atomic step. A change marks its queue before it tries the lock: either the flusher
   takes it, or the lock is free and the change starts the next flusher. Nothing is missed, only one flusher
   runs at a time so the figures arrive in the order they were read, and the figures sent last were read after
   the last change — exact.

With a delay of 0 the flush runs at once in the caller's thread: no coalescing, the figures right behind their
events (the test settings use it, so that a test's uncommitted data is what the figures count).

A process that dies holding the lock leaves the set for the beat's ``queue_stats_flush_task`` (every few
seconds, once the lock expired) and for the next change after that. Consoles and wallboards read exact figures in every
snapshot anyway (on connect, on resync, after a gap).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

import redis
from django.conf import settings
from django.db import connections

from config.redis_clients import REDIS_ERRORS, client_for

from .events import inbox_stats_sends, queue_stats_sends
from .publisher import publish

logger = logging.getLogger(__name__)

# Run by the lock's holder: take the dirty queues and keep the lock, or, with none left, release it. A change marks
# its queue before it tries the lock, so it is either taken here or finds the lock free and flushes itself.
_TAKE_OR_RELEASE = """
if redis.call('SCARD', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[2])
  return {}
end
local ids = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return ids
"""
LOCK_SPARE_MS = 5000  # the lock outlives a round by this much: a slow round is not joined by a second flusher


class _Counts:
    flushes = 0  # how many aggregates this process ran (the tests' evidence of coalescing)


counts = _Counts()


def _prefix() -> str:
    return settings.CHANNEL_LAYERS["default"]["CONFIG"].get("prefix", "asgi")


def _keys() -> tuple[str, str]:
    return f"{_prefix()}:live:stats:dirty", f"{_prefix()}:live:stats:lock"


def _redis() -> redis.Redis:
    return client_for(settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0])


def _lock_ms(delay: float) -> int:
    return int(delay * 1000) + LOCK_SPARE_MS


def _ids(queue_ids: Iterable[int]) -> list[int]:
    return sorted({int(pk) for pk in queue_ids if pk is not None})


def _mark(pipe, ids: list[int], delay: float) -> None:
    dirty, lock = _keys()
    pipe.sadd(dirty, *ids)
    pipe.set(lock, "1", nx=True, px=_lock_ms(delay))


class QueueStatsMark:
    """``queue_stats_changed``'s round trip, sent with a live publish's last one (``publish(sends, then=mark)``):
    ``done`` tells whether it went; if not, call ``queue_stats_changed``."""

    def __init__(self, queue_ids: Iterable[int]) -> None:
        self.ids, self.done = _ids(queue_ids), False

    def __call__(self, pipe, client):
        mine, theirs = _redis().connection_pool.connection_kwargs, client.connection_pool.connection_kwargs
        if not self.ids or any(mine.get(key) != theirs.get(key) for key in ("host", "port", "db", "path")):
            return None  # the layer's Redis is not this module's: queue_stats_changed sends it
        delay = settings.SWITCHBOARD_QUEUE_STATS_DELAY_SECONDS
        _mark(pipe, self.ids, delay)

        def finish(replies: list) -> None:
            self.done = True
            _marked(took=replies[1], ids=self.ids, delay=delay)

        return finish


def queue_stats_changed(queue_ids: Iterable[int]) -> None:
    """The figures of these queues changed (committed): publish them within the interval. Never raises."""
    ids = _ids(queue_ids)
    if not ids:
        return
    delay = settings.SWITCHBOARD_QUEUE_STATS_DELAY_SECONDS
    try:
        pipe = _redis().pipeline(transaction=False)
        _mark(pipe, ids, delay)
        _, took = pipe.execute()
    # after the commit nothing here may turn a stored create into a 500
    except REDIS_ERRORS:
        logger.exception("live events: could not mark queues %s for their figures", ids)
        return
    _marked(took=took, ids=ids, delay=delay)


def _marked(*, took, ids: list[int], delay: float) -> None:
    """The queues are marked; whoever took the lock starts the flush."""
    if not took:
        return  # the lock's holder publishes them (it looks again before it lets go)
    if delay <= 0:  # no coalescing: published at once, in the caller's thread (the test settings' choice)
        try:
            _drain(delay=0)
        except Exception:
            logger.exception("live events: could not publish the figures of queues %s", ids)
        return
    timer = threading.Timer(delay, _flush_in_thread, kwargs={"delay": delay})
    timer.daemon = True
    timer.start()


def _flush_in_thread(*, delay: float) -> None:
    try:
        _drain(delay=delay)
    except Exception:
        logger.exception("live events: could not publish the queue figures")
    finally:
        connections.close_all()  # this thread's own database connection


def _drain(*, delay: float) -> int:
    """As the lock's holder: publish the dirty queues' figures round after round (one aggregate each, ``delay``
    apart) until none is left, then let go. Rounds one after the other: the figures arrive in the order read."""
    dirty, lock = _keys()
    published = 0
    while True:
        ids = {int(pk) for pk in _redis().eval(_TAKE_OR_RELEASE, 2, dirty, lock, _lock_ms(delay))}
        if not ids:
            return published
        counts.flushes += 1
        try:
            sends = queue_stats_sends(ids) + inbox_stats_sends(ids)
        except Exception:
            # the round's queues stay marked and the lock goes: the next change (or the beat) publishes them
            pipe = _redis().pipeline(transaction=False)
            pipe.sadd(dirty, *ids)
            pipe.delete(lock)
            pipe.execute()
            raise
        publish(sends)
        published += len(ids)
        if delay > 0:
            time.sleep(delay)  # what changes meanwhile waits for the next round


def queue_stats_flush() -> int:
    """Publish the figures of queues left marked (their flusher stopped); answers how many queues. Does nothing
    while a flusher holds the lock. Idempotent."""
    _dirty, lock = _keys()
    if not _redis().set(lock, "1", nx=True, px=_lock_ms(0)):
        return 0
    return _drain(delay=0)
