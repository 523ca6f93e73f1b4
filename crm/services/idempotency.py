"""Temporary: removed in phase 2. ``crm.services.idempotency`` moved to ``crm.access.services.idempotency``.

Re-exports for the modules not moved yet (admin, API, console views, consumers); new code imports the new paths.
"""

from crm.access.services.idempotency import (  # noqa: F401
    MAX_KEY_LENGTH,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    IdempotentResponse,
    idempotency_check_key,
    idempotency_owner,
    idempotency_purge_expired,
    idempotency_request_hash,
    idempotency_run,
)

__all__ = [
    "IdempotencyInProgress",
    "IdempotencyKeyReused",
    "IdempotentResponse",
    "MAX_KEY_LENGTH",
    "idempotency_check_key",
    "idempotency_owner",
    "idempotency_purge_expired",
    "idempotency_request_hash",
    "idempotency_run",
]
