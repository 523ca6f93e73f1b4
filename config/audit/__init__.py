"""The audit log of every change: the doors that open an audit context and the recorder (see ``recorder`` for how
changes are caught, and why no personal data or secret enters the log)."""

from .batch import audit_batched, audit_write_many
from .doors import AuditedCommand, AuditMiddleware
from .known import audit_known_before, audit_row_read
from .recorder import (
    CHANGED,
    AuditContext,
    AuditRecord,
    audit_context,
    audit_write,
    current,
    diff,
    is_audited,
    is_personal,
    on_m2m_changed,
    on_post_delete,
    on_post_save,
    on_pre_save,
    record,
)

__all__ = [
    "CHANGED",
    "AuditContext",
    "AuditMiddleware",
    "AuditRecord",
    "AuditedCommand",
    "audit_batched",
    "audit_context",
    "audit_known_before",
    "audit_row_read",
    "audit_write",
    "audit_write_many",
    "current",
    "diff",
    "is_audited",
    "is_personal",
    "on_m2m_changed",
    "on_post_delete",
    "on_post_save",
    "on_pre_save",
    "record",
]
