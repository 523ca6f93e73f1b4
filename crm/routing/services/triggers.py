"""Asking for a routing run: once the current transaction commits, a ``route_pending_task`` is queued — one at a
time, however many changes ask (``config.coalesced``: a burst of a thousand creates queues one run). The request is
made by the process's requester thread (``request_soon``): at once for the first change of a burst, then once per
``config.coalesced.LINGER`` for the rest, so a create does not wait for Redis to ask. The beat's periodic run routes
every few seconds whatever happens (and catches the changes of a process killed before its requester's turn)."""

from config.coalesced import CoalescedTask

ROUTE_PENDING_TASK = "crm.tasks.route_pending_task"

# A triggered run that has not started within this many seconds is dropped: the beat entry has run since.
TRIGGER_EXPIRES_SECONDS = 60
PENDING_MARK_SECONDS = 10

_RUNS = CoalescedTask(
    task=ROUTE_PENDING_TASK,
    mark="routing:run-pending",
    pending_seconds=PENDING_MARK_SECONDS,
    expires=TRIGGER_EXPIRES_SECONDS,
    what="routing",
    run="routing run",
)


def _mark_key() -> str:
    return _RUNS.mark_key()


def routing_run_starting() -> None:
    """The run clears the mark before it reads: changes committed from now on ask for the next run."""
    _RUNS.starting()


def request_routing(*, reason: str) -> None:
    """Ask for a routing run once the current transaction (if any) commits (by the requester thread)."""
    _RUNS.request_soon(note=reason)
