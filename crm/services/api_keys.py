"""Temporary: removed in phase 2. ``crm.services.api_keys`` moved to ``crm.access.services.api_keys``.

Re-exports for the modules not moved yet (admin, API, console views, consumers); new code imports the new paths.
"""

from crm.access.services.api_keys import (  # noqa: F401
    KEY_PREFIX,
    LAST_USED_RESOLUTION,
    api_key_authenticate,
    api_key_create,
    api_key_revoke,
    hash_key,
)

__all__ = [
    "KEY_PREFIX",
    "LAST_USED_RESOLUTION",
    "api_key_authenticate",
    "api_key_create",
    "api_key_revoke",
    "hash_key",
]
