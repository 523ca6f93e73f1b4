"""Temporary: removed in phase 2. ``crm.services.reviews`` moved to ``crm.quality.services``.

Re-exports for the modules not moved yet (admin, API, console views, consumers); new code imports the new paths.
"""

from crm.quality.services import (  # noqa: F401
    MAX_SAMPLE,
    REVIEWABLE,
    SampleSpec,
    review_complete,
    review_sample,
)

__all__ = [
    "MAX_SAMPLE",
    "REVIEWABLE",
    "SampleSpec",
    "review_complete",
    "review_sample",
]
