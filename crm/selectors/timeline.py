"""Temporary: removed in phase 2. ``crm.selectors.timeline`` moved to ``crm.timeline.selectors``.

Re-exports for the modules not moved yet (admin, API, console views, consumers); new code imports the new paths.
"""

from crm.timeline.selectors import (  # noqa: F401
    BODY_PREVIEW_CHARS,
    TimelineCursor,
    TimelineEntry,
    TimelineKind,
    customer_timeline,
)

__all__ = [
    "BODY_PREVIEW_CHARS",
    "TimelineCursor",
    "TimelineEntry",
    "TimelineKind",
    "customer_timeline",
]
