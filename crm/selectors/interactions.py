"""Temporary: removed in phase 2. ``crm.selectors.interactions`` moved to ``crm.interactions.selectors``, ``crm.routing.selectors``.

Re-exports for the modules not moved yet (admin, API, console views, consumers); new code imports the new paths.
"""

from crm.interactions.permissions import (  # noqa: F401
    InteractionAction,
    interaction_action_refusal,
    interaction_permitted_actions,
)
from crm.interactions.selectors import (  # noqa: F401
    NOTHING,
    interaction_assignable_agents,
    interaction_filter,
    interaction_get,
    interaction_list,
    interaction_visibility_q,
    message_list,
)
from crm.routing.selectors import (  # noqa: F401
    interaction_target_queues,
    queue_default_for_channel,
)

__all__ = [
    "NOTHING",
    "InteractionAction",
    "interaction_action_refusal",
    "interaction_permitted_actions",
    "interaction_assignable_agents",
    "interaction_filter",
    "interaction_get",
    "interaction_list",
    "interaction_target_queues",
    "interaction_visibility_q",
    "message_list",
    "queue_default_for_channel",
]
