"""Temporary: removed in phase 2. ``crm.selectors.reviews`` moved to ``crm.quality.selectors``.

Re-exports for the modules not moved yet (admin, API, console views, consumers); new code imports the new paths.
"""

from crm.quality.selectors import (  # noqa: F401
    agent_qa_scores,
    agent_reviews,
    review_list,
)

__all__ = [
    "agent_qa_scores",
    "agent_reviews",
    "review_list",
]
