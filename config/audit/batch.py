"""Audit entries written together: ``audit_batched`` collects what a block records and writes it in one statement."""

from __future__ import annotations

from contextlib import contextmanager

from config.hooks import Hook

from .recorder import AuditRecord, audit_write, current

audit_write_many: Hook = Hook(
    "audit_write_many",
    "Called with the ``AuditRecord`` list of an ``audit_batched`` block, in order, in the changing transaction; "
    "writes them in one statement. Without a handler, each record goes to ``audit_write``.",
)


@contextmanager
def audit_batched():
    """Collect the entries recorded inside the block and write them at its end in one statement (``audit_write_many``)
    instead of one INSERT each: for a service that records several changes in one transaction (an API create: the
    interaction and its first message).

    Use it inside the service's ``transaction.atomic`` block, around code with no savepoint that is rolled back while
    the block goes on (an entry recorded inside such a savepoint would still be written). An exception leaving the
    block drops the collected entries: the transaction is rolled back with them. Outside an audit context, or
    inside another batch, it does nothing of its own.
    """
    context = current()
    if context is None or context.batch is not None:
        yield
        return
    context.batch = []
    try:
        yield
    except BaseException:
        context.batch = None
        raise
    entries, context.batch = context.batch, None
    _deliver(entries)


def _deliver(entries: list[AuditRecord]) -> None:
    if not entries:
        return
    if audit_write_many.handlers:
        for handler in audit_write_many:
            handler(entries)
        return
    for entry in entries:
        for handler in audit_write:
            handler(entry)
