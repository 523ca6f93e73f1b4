"""Temporary: removed in phase 2. The read queries moved into their concerns (``crm.<concern>.selectors``).

Re-exports what ``crm.selectors`` offered, for the modules not moved yet (admin, API, console views).
"""

from crm.interactions.permissions import (  # noqa: F401
    InteractionAction,
    interaction_action_refusal,
    interaction_permitted_actions,
)
from crm.interactions.selectors import (  # noqa: F401
    interaction_assignable_agents,
    interaction_filter,
    interaction_get,
    interaction_list,
    interaction_visibility_q,
    message_list,
)
from crm.routing.selectors import interaction_target_queues, queue_default_for_channel  # noqa: F401

__all__ = [
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
