"""Temporary: removed in phase 2. ``crm.selectors.queues`` moved to ``crm.routing.selectors``, ``crm.sla.selectors``.

Re-exports for the modules not moved yet (admin, API, console views, consumers); new code imports the new paths.
"""

from crm.routing.selectors import (  # noqa: F401
    queue_list,
    queue_visibility_q,
    queue_with_live_figures,
    queues_served_by,
)
from crm.sla.selectors import (  # noqa: F401
    business_hours_list,
    sla_policy_list,
)

__all__ = [
    "business_hours_list",
    "queue_list",
    "queue_visibility_q",
    "queue_with_live_figures",
    "queues_served_by",
    "sla_policy_list",
]
