"""Temporary: removed in phase 2. ``crm.selectors.console`` moved to ``crm.console.selectors``.

Re-exports for the modules not moved yet (admin, API, console views, consumers); new code imports the new paths.
"""

from crm.console.selectors import (  # noqa: F401
    CUSTOMER_HISTORY_VIEWER,
    ChannelLoad,
    CustomerPanel,
    PastInteraction,
    SurveyAnswer,
    console_capacity,
    console_customer_panel,
    console_my_work,
    console_queues,
)

__all__ = [
    "CUSTOMER_HISTORY_VIEWER",
    "ChannelLoad",
    "CustomerPanel",
    "PastInteraction",
    "SurveyAnswer",
    "console_capacity",
    "console_customer_panel",
    "console_my_work",
    "console_queues",
]
