from django.db import models


class AgentStatus(models.TextChoices):
    OFFLINE = "offline", "Offline"
    AVAILABLE = "available", "Available"
    BUSY = "busy", "Busy"
    WRAP_UP = "wrap_up", "Wrap-up"
    ON_BREAK = "on_break", "On break"
    NOT_READY = "not_ready", "Not ready"


# Which status may follow which. Any logged-in status may go offline; coming back passes through available.
# not_ready is set by the system (an offer the agent let time out) or by the agent themself; it takes no new
# work until the agent says they are available again.
AGENT_STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    AgentStatus.OFFLINE: frozenset({AgentStatus.AVAILABLE, AgentStatus.ON_BREAK}),
    AgentStatus.AVAILABLE: frozenset(
        {AgentStatus.BUSY, AgentStatus.ON_BREAK, AgentStatus.NOT_READY, AgentStatus.OFFLINE}
    ),
    AgentStatus.BUSY: frozenset(
        {AgentStatus.AVAILABLE, AgentStatus.WRAP_UP, AgentStatus.ON_BREAK, AgentStatus.NOT_READY, AgentStatus.OFFLINE}
    ),
    AgentStatus.WRAP_UP: frozenset(
        {AgentStatus.AVAILABLE, AgentStatus.BUSY, AgentStatus.ON_BREAK, AgentStatus.NOT_READY, AgentStatus.OFFLINE}
    ),
    AgentStatus.ON_BREAK: frozenset({AgentStatus.AVAILABLE, AgentStatus.OFFLINE}),
    AgentStatus.NOT_READY: frozenset({AgentStatus.AVAILABLE, AgentStatus.ON_BREAK, AgentStatus.OFFLINE}),
}
