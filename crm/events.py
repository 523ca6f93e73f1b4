"""Temporary: removed in phase 2. ``crm.events`` moved to ``crm.live.events``, ``crm.live.publisher``, ``crm.live.receivers``.

Re-exports for the modules not moved yet (admin, API, console views, consumers); new code imports the new paths.
"""

from crm.live.events import (  # noqa: F401
    BREACH_SUMMARY_OVER,
    FINISHED,
    KNOWN_KINDS,
    MOVING_KINDS,
    agent_status_sends,
    break_sends,
    interaction_batch_sends,
    interaction_event_name,
    interaction_sends,
    sla_breach_sends,
    sla_breaches_sends,
    training_sends,
)
from crm.live.publisher import (  # noqa: F401
    MESSAGE_TYPE,
    PUBLISH_TIMEOUT_SECONDS,
    WALLBOARD_ALL,
    agent_group,
    counter_key,
    publish,
    queue_group,
    team_group,
)
from crm.live.receivers import (  # noqa: F401
    publish_agent_status_changed,
    publish_break_decided,
    publish_break_due,
    publish_break_ended,
    publish_break_requested,
    publish_break_started,
    publish_interaction_changed,
    publish_sla_breaches,
    publish_training_expired,
    publish_training_expiring,
)

__all__ = [
    "BREACH_SUMMARY_OVER",
    "FINISHED",
    "KNOWN_KINDS",
    "MESSAGE_TYPE",
    "MOVING_KINDS",
    "PUBLISH_TIMEOUT_SECONDS",
    "WALLBOARD_ALL",
    "agent_group",
    "agent_status_sends",
    "break_sends",
    "counter_key",
    "interaction_batch_sends",
    "interaction_event_name",
    "interaction_sends",
    "publish",
    "publish_agent_status_changed",
    "publish_break_decided",
    "publish_break_due",
    "publish_break_ended",
    "publish_break_requested",
    "publish_break_started",
    "publish_interaction_changed",
    "publish_sla_breaches",
    "publish_training_expired",
    "publish_training_expiring",
    "queue_group",
    "sla_breach_sends",
    "sla_breaches_sends",
    "team_group",
    "training_sends",
]
