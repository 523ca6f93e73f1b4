"""A task asked for by many changes, queued once at a time: ``CoalescedTask``.

A burst of a thousand changes must not queue a thousand runs of the same task. After its commit a change sets a
"pending" mark in Redis (``SET NX``) and publishes a run only if it set the mark; the run clears the mark as it
starts (``starting``), before it reads anything. So a change that found the mark set committed before the pending
run cleared it, and that run, reading after, handles its work too; a change after the clearing sets the mark again
and publishes the next run. The mark expires after ``pending_seconds`` (a run lost on the way), and a periodic
task must back every use up (the routing pass, the queued e-mail sweep). Without Redis every change publishes; a
broker that refuses is logged, never raised: the change that asked is committed. Tasks run eagerly (as in tests)
run at once, so nothing is ever pending. One mark per ``scope`` (e.g. per inbox), or one for all.
"""

import logging
from collections.abc import Hashable, Mapping
from functools import cache
from typing import Any

import redis
from django.conf import settings
from django.db import transaction

from config.tasks import task_named

logger = logging.getLogger(__name__)

# redis-py's socket errors surface as these too (see crm.live.queue_stats)
REDIS_ERRORS = (redis.RedisError, OSError, ValueError, AttributeError)


@cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5)


class CoalescedTask:
    def __init__(
        self, *, task: str, mark: str, pending_seconds: int, what: str, run: str = "run", expires: int | None = None
    ) -> None:
        """``what`` names the concern in log lines, ``run`` one run of the task ("routing run", "drain")."""
        self.task, self.mark, self.pending_seconds, self.expires = task, mark, pending_seconds, expires
        self.what, self.run = what, run

    def mark_key(self, scope: Hashable | None = None) -> str:
        suffix = "" if scope is None else f":{scope}"
        return f"{settings.SWITCHBOARD_INSTANCE}:{self.mark}{suffix}"

    def starting(self, scope: Hashable | None = None) -> None:
        """The run clears its mark before it reads: changes committed from now on ask for the next run."""
        try:
            _client(settings.REDIS_URL).delete(self.mark_key(scope))
        except REDIS_ERRORS:
            logger.warning("%s: could not clear the %s-pending mark; it expires by itself", self.what, self.run,
                           exc_info=True)  # fmt: skip

    def request(self, scope: Hashable | None = None, *, kwargs: Mapping[str, Any] | None = None, note: str = "1"):
        """Ask for a run once the current transaction (if any) commits."""
        transaction.on_commit(lambda: self.request_now(scope, kwargs=kwargs, note=note))

    def request_now(self, scope: Hashable | None = None, *, kwargs: Mapping[str, Any] | None = None, note: str = "1"):
        """Publish a run unless one is pending and has not started (it will handle this change's work too)."""
        task = task_named(self.task)
        try:
            if not task.app.conf.task_always_eager and not _client(settings.REDIS_URL).set(
                self.mark_key(scope), note[:100], nx=True, ex=self.pending_seconds
            ):
                return
        except REDIS_ERRORS:
            logger.warning("%s: no %s-pending mark (Redis); publishing one anyway", self.what, self.run, exc_info=True)
        self.publish(kwargs=kwargs, note=note)

    def publish(self, *, kwargs: Mapping[str, Any] | None = None, note: str = "") -> None:
        """Publish a run whatever the mark says (a periodic sweep's catch-up)."""
        try:
            task_named(self.task).apply_async(
                kwargs=dict(kwargs or {}), expires=self.expires, retry_policy={"max_retries": 1}
            )
        except Exception:
            # the change that asked is committed: a broker hiccup must not turn it into an error
            logger.exception(
                "%s: could not request a %s (%s); the periodic task will catch up", self.what, self.run, note
            )
