"""What routing registers on the core's hooks, and the hook it exposes itself.

On ``crm.interactions.hooks``: ``queue_for_channel`` (new work on a channel goes to the highest-priority active
queue serving it). Exposed: ``queue_changed(*, queue, changed) -> None``, called by ``queue_update`` in its
transaction after a queue's fields were saved (``changed``: their names); registered by ``crm.sla`` (a new
SLA policy moves the due times of the queue's open work).
"""

from typing import Protocol

from config.hooks import Hook
from crm.interactions import hooks as core

from .models import Queue
from .selectors import queue_default_for_channel


class QueueChanged(Protocol):
    def __call__(self, *, queue: Queue, changed: frozenset[str]) -> None: ...


queue_changed: Hook[QueueChanged] = Hook("queue_changed", "A queue's fields were saved (in the transaction).")


def run_queue_changed(*, queue: Queue, changed: frozenset[str]) -> None:
    for handler in queue_changed:
        handler(queue=queue, changed=changed)


def default_queue_for_channel(*, channel: str) -> Queue | None:
    return queue_default_for_channel(channel=channel)


def register() -> None:
    core.queue_for_channel.register(default_queue_for_channel)
