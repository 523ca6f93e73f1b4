"""Temporary: removed in phase 2. ``crm.services.lifecycle`` moved to ``crm.interactions.services.assignment``, ``crm.interactions.services.eventlog``, ``crm.interactions.services.handover``, ``crm.interactions.services.intake``, ``crm.interactions.services.lifecycle``, ``crm.interactions.services.transitions``, ``crm.webhooks.hooks``.

Re-exports for the modules not moved yet (admin, API, console views, consumers); new code imports the new paths.
"""

from crm.interactions.services.assignment import (  # noqa: F401
    interaction_assign,
    interaction_assign_many,
)
from crm.interactions.services.eventlog import (  # noqa: F401
    log_event,
    log_events,
)
from crm.interactions.services.handover import (  # noqa: F401
    TRANSFER_FROM,
    interaction_escalate,
    interaction_transfer,
)
from crm.interactions.services.intake import (  # noqa: F401
    MAX_TAG_LENGTH,
    MAX_TAGS,
    interaction_create_inbound,
)
from crm.interactions.services.lifecycle import (  # noqa: F401
    UNSET,
    interaction_abandon,
    interaction_accept,
    interaction_close,
    interaction_hold,
    interaction_offer_timeout,
    interaction_reopen,
    interaction_resolve,
    interaction_resume,
    interaction_update,
    interaction_wrap_up,
)
from crm.interactions.services.transitions import (  # noqa: F401
    HANDLE_TIME_FIELDS,
)
from crm.webhooks.hooks import (  # noqa: F401
    WEBHOOK_EVENTS,
)

__all__ = [
    "HANDLE_TIME_FIELDS",
    "MAX_TAGS",
    "MAX_TAG_LENGTH",
    "TRANSFER_FROM",
    "UNSET",
    "WEBHOOK_EVENTS",
    "interaction_abandon",
    "interaction_accept",
    "interaction_assign",
    "interaction_assign_many",
    "interaction_close",
    "interaction_create_inbound",
    "interaction_escalate",
    "interaction_hold",
    "interaction_offer_timeout",
    "interaction_reopen",
    "interaction_resolve",
    "interaction_resume",
    "interaction_transfer",
    "interaction_update",
    "interaction_wrap_up",
    "log_event",
    "log_events",
]
