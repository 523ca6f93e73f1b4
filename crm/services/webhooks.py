"""Temporary: removed in phase 2. ``crm.services.webhooks`` moved to ``crm.webhooks.services``.

Re-exports for the modules not moved yet (admin, API, console views, consumers); new code imports the new paths.
"""

from crm.webhooks.services import (  # noqa: F401
    UnsafeTarget,
    resolve_target,
    retry_delay,
    webhook_check_events,
    webhook_check_url,
    webhook_create,
    webhook_delete,
    webhook_deliver,
    webhook_emit,
    webhook_emit_many,
    webhook_publish_due,
    webhook_resend,
    webhook_signature,
    webhook_update,
)

__all__ = [
    "UnsafeTarget",
    "resolve_target",
    "retry_delay",
    "webhook_check_events",
    "webhook_check_url",
    "webhook_create",
    "webhook_delete",
    "webhook_deliver",
    "webhook_emit",
    "webhook_emit_many",
    "webhook_publish_due",
    "webhook_resend",
    "webhook_signature",
    "webhook_update",
]
