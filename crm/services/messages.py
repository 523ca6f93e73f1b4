"""Temporary: removed in phase 2. ``crm.services.messages`` moved to ``crm.interactions.services.messages``.

Re-exports for the modules not moved yet (admin, API, console views, consumers); new code imports the new paths.
"""

from crm.interactions.services.messages import (  # noqa: F401
    CLOSED_TO_MESSAGES,
    message_check_body,
    message_create,
    message_insert,
)

__all__ = [
    "CLOSED_TO_MESSAGES",
    "message_check_body",
    "message_create",
    "message_insert",
]
