"""The audit log's recorder: who changed which object, from where, which fields from what to what.

One log for every door (issue 16, item 4). A change is recorded when it happens inside an *audit context*: a
request (``AuditMiddleware``: the admin, the API, the HTML views) or a management command (``AuditedCommand``).
Inside one, every save, delete and many-to-many change of an audited model becomes one entry, whatever code
made it, so a service called from the admin, the API or a command is on record without each caller remembering
to log. Beat tasks and workers run outside any context: their changes are the system's, already on record in the
domain's own logs (interaction events, status log, supervisor actions).

This module sits in ``config`` so that every app can reach it; it writes through the ``audit_write`` hook, which
``agents`` (where ``AuditEntry`` lives) fills, so ``config`` imports no app.

Personal data never enters the log: for a model holding a customer's data (a foreign-key path to
``contacts.Customer``), an entry names the changed fields only ("changed"), never their values, and its object is
"Customer #12", not the name: erasing a customer needs nothing from the audit log. Secrets (tokens, passwords,
key hashes) are masked the same way on every model.
"""

from .doors import AuditedCommand, AuditMiddleware
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
    "audit_context",
    "audit_write",
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
