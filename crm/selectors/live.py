"""Temporary: removed in phase 2. ``crm.selectors.live`` moved to ``crm.live.selectors``.

Re-exports for the modules not moved yet (admin, API, console views, consumers); new code imports the new paths.
"""

from crm.live.selectors import (  # noqa: F401
    IN_QUEUE_FIGURES,
    PRESENCE_VALUES,
    SUMMARY_VALUES,
    WORKING,
    live_agent_presence,
    live_console_snapshot,
    live_interaction,
    live_interactions,
    live_queue_stats,
    live_queue_today,
    live_wallboard_snapshot,
)

__all__ = [
    "IN_QUEUE_FIGURES",
    "PRESENCE_VALUES",
    "SUMMARY_VALUES",
    "WORKING",
    "live_agent_presence",
    "live_console_snapshot",
    "live_interaction",
    "live_interactions",
    "live_queue_stats",
    "live_queue_today",
    "live_wallboard_snapshot",
]
