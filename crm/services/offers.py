"""Temporary: removed in phase 2. ``crm.services.offers`` moved to ``crm.routing.services.offers``.

Re-exports for the modules not moved yet (admin, API, console views, consumers); new code imports the new paths.
"""

from crm.routing.services.offers import (  # noqa: F401
    NOT_READY_FROM,
    offer_timeouts_expire,
)

__all__ = [
    "NOT_READY_FROM",
    "offer_timeouts_expire",
]
