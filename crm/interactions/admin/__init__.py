"""The core's admin: interactions (``interactions``: the page and list, and how other concerns add to the page) and
their records — messages, events, assignments (``records``)."""

from .interactions import (
    INTERACTION_TEAMS,
    InteractionAdmin,
    InteractionEventInline,
    NewMessageInline,
    interaction_admin_add_inline,
    interaction_admin_add_summary,
    interaction_teams_via,
)
from .records import AssignmentAdmin, InteractionEventAdmin, MessageAdmin

__all__ = [
    "INTERACTION_TEAMS",
    "AssignmentAdmin",
    "InteractionAdmin",
    "InteractionEventInline",
    "InteractionEventAdmin",
    "MessageAdmin",
    "NewMessageInline",
    "interaction_admin_add_inline",
    "interaction_admin_add_summary",
    "interaction_teams_via",
]
