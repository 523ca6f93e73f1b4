"""A row's values the audit trail already knows: read under the row's lock, they need not be read again to diff.

Before an update the recorder reads the changed fields' old values from the database (``recorder.on_pre_save``). A
service that has just read the row ``select_for_update()`` holds those values already: nobody can change the row
until its transaction ends. ``audit_row_read`` takes them right after the read, before the service changes anything;
``audit_known_before`` hands them to one ``save()`` (a one-off: the mark is gone after it, whatever happens, so an
instance kept past its transaction can never diff against stale values).
"""

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .recorder import KNOWN_ROW, _fields, _recording


def audit_row_read(instance) -> dict[str, Any] | None:
    """The audited values of ``instance`` as it was read (None when nothing is being recorded: no copy is made). Take
    it right after reading the row under its lock; mutable values are copied, so a change made in place later is
    still seen as a change."""
    if not _recording(type(instance)):
        return None
    return {
        f.name: copy.deepcopy(value) if isinstance(value := getattr(instance, f.attname), dict | list) else value
        for f in _fields(type(instance))
    }


@contextmanager
def audit_known_before(instance, row: dict[str, Any] | None) -> Iterator[None]:
    """Around one ``save()`` of ``instance``, still under the lock ``row`` (``audit_row_read``) was read with: the
    audit trail diffs against ``row`` instead of reading the old values again."""
    if row is None:
        yield
        return
    instance.__dict__[KNOWN_ROW] = row
    try:
        yield
    finally:
        instance.__dict__.pop(KNOWN_ROW, None)
