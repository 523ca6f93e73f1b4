"""What changes interactions, re-exported here: ``from crm.interactions import services`` then
``services.interaction_resolve(...)``.

Modules: ``intake`` (new interactions), ``assignment`` (queued work to an agent), ``lifecycle`` (the moves after
that), ``handover`` (transfers, escalations), ``messages``, and under them ``transitions`` (lock, check, change,
log) and ``eventlog``.
"""

from .assignment import interaction_assign, interaction_assign_many
from .eventlog import announced_together, log_event, log_events
from .handover import TRANSFER_FROM, interaction_escalate, interaction_transfer
from .intake import MAX_TAG_LENGTH, MAX_TAGS, interaction_create_inbound
from .lifecycle import (
    UNSET,
    interaction_abandon,
    interaction_accept,
    interaction_close,
    interaction_enqueue,
    interaction_hold,
    interaction_offer_timeout,
    interaction_offer_withdraw,
    interaction_reopen,
    interaction_resolve,
    interaction_resume,
    interaction_self_served,
    interaction_update,
    interaction_wrap_up,
)
from .messages import CLOSED_TO_MESSAGES, message_check_body, message_create, message_insert

__all__ = [
    "CLOSED_TO_MESSAGES",
    "MAX_TAGS",
    "MAX_TAG_LENGTH",
    "TRANSFER_FROM",
    "UNSET",
    "announced_together",
    "interaction_abandon",
    "interaction_accept",
    "interaction_assign",
    "interaction_assign_many",
    "interaction_close",
    "interaction_create_inbound",
    "interaction_enqueue",
    "interaction_escalate",
    "interaction_hold",
    "interaction_offer_timeout",
    "interaction_offer_withdraw",
    "interaction_reopen",
    "interaction_resolve",
    "interaction_resume",
    "interaction_self_served",
    "interaction_transfer",
    "interaction_update",
    "interaction_wrap_up",
    "log_event",
    "log_events",
    "message_check_body",
    "message_create",
    "message_insert",
]
