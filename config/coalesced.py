"""A task asked for by many changes, queued once at a time: ``CoalescedTask``.

A burst of a thousand changes must not queue a thousand runs of the same task. After its commit a change sets a
"pending" mark in Redis (``SET NX``) and publishes a run only if it set the mark; the run clears the mark as it
starts (``starting``), before it reads anything. So a change that found the mark set committed before the pending
run cleared it, and that run, reading after, handles its work too; a change after the clearing sets the mark again
and publishes the next run. The mark expires after ``pending_seconds`` (a run lost on the way), and a periodic
task must back every use up (the routing pass, the queued e-mail sweep). Without Redis every change publishes; a
broker that refuses is logged, never raised: the change that asked is committed. Tasks run eagerly (as in tests)
run at once, so nothing is ever pending. One mark per ``scope`` (e.g. per inbox), or one for all.

``request_soon`` is ``request`` for an endpoint that takes bursts (the queued e-mail endpoint, hundreds of mails a
second): after the commit the scope is handed to this process's requester thread, which makes the request (the
``SET NX`` above) at once, then at most once per ``LINGER`` seconds per scope for every change committed meanwhile —
a few Redis commands a second for a burst instead of one per change, and the caller answers without waiting. The request
still comes after the commit, so the protocol holds; a process killed between its answer and its requester's turn
(at most ``LINGER`` seconds) leaves those changes to the periodic task, as a crash between a commit and its request
always did. A process that exits normally makes its pending requests first.
"""

import atexit
import logging
import os
import threading
import time
from collections.abc import Hashable, Mapping
from typing import Any

from django.db import transaction

from config.redis_clients import REDIS_ERRORS, instance_key
from config.redis_clients import shared as shared_redis
from config.tasks import task_named

logger = logging.getLogger(__name__)


class CoalescedTask:
    def __init__(
        self, *, task: str, mark: str, pending_seconds: int, what: str, run: str = "run", expires: int | None = None
    ) -> None:
        """``what`` names the concern in log lines, ``run`` one run of the task ("routing run", "drain")."""
        self.task, self.mark, self.pending_seconds, self.expires = task, mark, pending_seconds, expires
        self.what, self.run = what, run

    def mark_key(self, scope: Hashable | None = None) -> str:
        return instance_key(self.mark) if scope is None else instance_key(self.mark, scope)

    def starting(self, scope: Hashable | None = None) -> None:
        """The run clears its mark before it reads: changes committed from now on ask for the next run."""
        try:
            shared_redis().delete(self.mark_key(scope))
        except REDIS_ERRORS:
            logger.warning("%s: could not clear the %s-pending mark; it expires by itself", self.what, self.run,
                           exc_info=True)  # fmt: skip

    def request(self, scope: Hashable | None = None, *, kwargs: Mapping[str, Any] | None = None, note: str = "1"):
        """Ask for a run once the current transaction (if any) commits."""
        transaction.on_commit(lambda: self.request_now(scope, kwargs=kwargs, note=note))

    def request_soon(self, scope: Hashable | None = None, *, kwargs: Mapping[str, Any] | None = None, note: str = "1"):
        """``request`` made by this process's requester thread once the transaction commits (see above)."""
        transaction.on_commit(lambda: _requester.add(self, scope, kwargs, note))

    def request_now(self, scope: Hashable | None = None, *, kwargs: Mapping[str, Any] | None = None, note: str = "1"):
        """Publish a run unless one is pending and has not started (it will handle this change's work too)."""
        task = task_named(self.task)
        try:
            if not task.app.conf.task_always_eager and not shared_redis().set(
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


LINGER = 0.1  # after asking, the requester waits this long: the rest of a burst is asked for once, after it


class _Requester:
    """This process's thread making the ``request_soon`` requests: started on first use, and again in a forked
    child (a thread does not survive a fork)."""

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)
        atexit.register(self.flush)

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._pending: dict[tuple[int, Hashable], tuple[CoalescedTask, Hashable, Mapping[str, Any] | None, str]] = {}
        self._thread: threading.Thread | None = None

    def add(self, coalesced: CoalescedTask, scope: Hashable, kwargs: Mapping[str, Any] | None, note: str) -> None:
        if task_named(coalesced.task).app.conf.task_always_eager:  # nothing is ever pending: run it here and now
            coalesced.request_now(scope, kwargs=kwargs, note=note)
            return
        with self._lock:
            self._pending[(id(coalesced), scope)] = (coalesced, scope, kwargs, note)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="coalesced-requests", daemon=True)
                self._thread.start()
        if not self._wake.is_set():
            self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            try:
                self.flush()  # the first change of a burst is asked for at once
            except Exception:  # never let the thread die: the next changes must still be asked for
                logger.exception("coalesced requests: could not make the requests")
            time.sleep(LINGER)  # the rest of the burst gathers meanwhile, and is asked for in one turn

    def flush(self) -> None:
        """Make every pending request now (the thread's turn, and the process's exit)."""
        with self._lock:
            self._wake.clear()  # a change added from now on wakes the thread again
            pending, self._pending = self._pending, {}
        for coalesced, scope, kwargs, note in pending.values():
            coalesced.request_now(scope, kwargs=kwargs, note=note)


_requester = _Requester()


def flush_pending_requests() -> None:
    """Make this process's pending ``request_soon`` requests now, not at the requester's next turn (a test about to
    wait for the work they ask for; the process's exit does it by itself)."""
    _requester.flush()
