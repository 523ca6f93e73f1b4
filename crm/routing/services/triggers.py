"""Asking for a routing run: once the current transaction commits, a ``route_pending_task`` is queued — one at a
time, however many changes ask.

A burst of a thousand creates must not queue a thousand routing runs. After its commit a change sets a "run
pending" mark in Redis (``SET NX``) and publishes a run only if it set the mark; the run clears the mark as it
starts, before it reads anything. So a change that found the mark set committed before the pending run cleared it,
and that run, reading after, routes its work too; a change after the clearing sets the mark again and publishes the
next run. The mark expires after ``PENDING_MARK_SECONDS`` (a run lost on the way), and the beat's periodic run
routes every few seconds whatever happens. (Tasks run eagerly, as in tests, run at once: nothing is pending.)
"""

import logging
from functools import cache

import redis
from django.conf import settings
from django.db import transaction

from config.tasks import task_named

ROUTE_PENDING_TASK = "crm.tasks.route_pending_task"

logger = logging.getLogger(__name__)

# A triggered run that has not started within this many seconds is dropped: the beat entry has run since.
TRIGGER_EXPIRES_SECONDS = 60


PENDING_MARK_SECONDS = 10


@cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5)


def _mark_key() -> str:
    return f"{settings.SWITCHBOARD_INSTANCE}:routing:run-pending"


def routing_run_starting() -> None:
    """The run clears the mark before it reads: changes committed from now on ask for the next run."""
    try:
        _client(settings.REDIS_URL).delete(_mark_key())
    except (redis.RedisError, OSError, ValueError, AttributeError):
        logger.warning("routing: could not clear the run-pending mark; it expires by itself", exc_info=True)


def _publish_route_request(reason: str) -> None:
    task = task_named(ROUTE_PENDING_TASK)
    try:
        if not task.app.conf.task_always_eager and not _client(settings.REDIS_URL).set(
            _mark_key(), reason[:100], nx=True, ex=PENDING_MARK_SECONDS
        ):
            return  # a run is pending and has not started: it will route this change's work too
    except (
        redis.RedisError,
        OSError,
        ValueError,
        AttributeError,
    ):  # see crm.live.queue_stats: redis-py's socket errors
        logger.warning("routing: no run-pending mark (Redis); publishing a run anyway", exc_info=True)
    try:
        task.apply_async(expires=TRIGGER_EXPIRES_SECONDS, retry_policy={"max_retries": 1})
    except Exception:
        # The change that triggered this is committed; a broker hiccup must not turn it into an error.
        # The periodic run routes the work a few seconds later.
        logger.exception("routing: could not request a routing run (%s); the periodic run will catch up", reason)


def request_routing(*, reason: str) -> None:
    """Ask for a routing run once the current transaction (if any) commits."""
    transaction.on_commit(lambda: _publish_route_request(reason))
