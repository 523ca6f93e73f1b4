"""Temporary: removed in phase 2. ``crm.selectors.canned_responses`` moved to ``crm.quality.selectors``.

Re-exports for the modules not moved yet (admin, API, console views, consumers); new code imports the new paths.
"""

from crm.quality.selectors import (  # noqa: F401
    canned_response_list,
)

__all__ = [
    "canned_response_list",
]
