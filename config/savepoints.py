"""One savepoint for a whole step, instead of one per service inside it.

A service that writes several rows wraps them in ``transaction.atomic()``: inside a caller's transaction that is
a savepoint (two statements, ``SAVEPOINT`` and ``RELEASE``), so that a caller which catches the service's error
can go on with its own transaction. A caller that runs a step of many such services in a savepoint of its own and
lets every error out of it (the queued e-mail import runs each mail so: any failure rolls that mail back whole and
records it failed) gains nothing from the services' savepoints, and pays for them on every mail.

``whole_step()`` is that caller's savepoint; inside it, ``unit()`` — what those services wrap their writes in —
opens none (Django's ``atomic(savepoint=False)``: an error inside marks the transaction for rollback, which the
step's savepoint does when the error leaves it). Everywhere else ``unit()`` is ``transaction.atomic()``, as before.
The mark does not cross into code that catches a service's error and goes on: only ``whole_step`` sets it, and its
callers let errors out.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import transaction

_held: ContextVar[bool] = ContextVar("switchboard_step_savepoint", default=False)


@contextmanager
def whole_step() -> Iterator[None]:
    """A savepoint around everything inside; the services inside open none of their own (``unit``)."""
    token = _held.set(True)
    try:
        with transaction.atomic():
            yield
    finally:
        _held.reset(token)


def unit() -> transaction.Atomic:
    """A service's atomic block: its own savepoint when nested, except inside ``whole_step``."""
    return transaction.atomic(savepoint=not _held.get())
