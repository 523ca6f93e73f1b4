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


class TrainingStatus(models.TextChoices):
    ASSIGNED = "assigned", "Assigned"
    IN_PROGRESS = "in_progress", "In progress"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"


# A record still waiting for its result; one such record per agent and course at a time.
OPEN_TRAINING_STATUSES = frozenset({TrainingStatus.ASSIGNED, TrainingStatus.IN_PROGRESS})


class BreakKind(models.TextChoices):
    SHORT = "short", "Short break"
    LUNCH = "lunch", "Lunch"
    WELL_BEING = "well_being", "Well-being break"
    TRAINING = "training", "Training"
    COACHING = "coaching", "Coaching"


# Usual lengths in minutes (seeded into BreakType by a migration; supervisors may change them there).
BREAK_DEFAULT_MINUTES = {
    BreakKind.SHORT: 5,
    BreakKind.LUNCH: 30,
    BreakKind.WELL_BEING: 10,
    BreakKind.TRAINING: 30,
    BreakKind.COACHING: 15,
}


class BreakStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved"
    DENIED = "denied", "Denied"
    SCHEDULED = "scheduled", "Scheduled"
    STARTED = "started", "Started"
    ENDED = "ended", "Ended"


# Waiting to be taken: an agent has at most one such break at a time.
PENDING_BREAK_STATUSES = frozenset({BreakStatus.REQUESTED, BreakStatus.APPROVED, BreakStatus.SCHEDULED})
# What each break status may become; a requested break may be started directly by a supervisor (send now).
BREAK_TRANSITIONS: dict[str, frozenset[str]] = {
    BreakStatus.REQUESTED: frozenset({BreakStatus.APPROVED, BreakStatus.SCHEDULED, BreakStatus.DENIED}),
    BreakStatus.APPROVED: frozenset({BreakStatus.STARTED, BreakStatus.DENIED}),
    BreakStatus.SCHEDULED: frozenset({BreakStatus.STARTED, BreakStatus.DENIED}),
    BreakStatus.STARTED: frozenset({BreakStatus.ENDED}),
    BreakStatus.DENIED: frozenset(),
    BreakStatus.ENDED: frozenset(),
}


class BreakDueReason(models.TextChoices):
    CONTINUOUS_HANDLING = "continuous_handling", "Long continuous handling"
    BAD_OUTCOMES = "bad_outcomes", "A run of difficult contacts"


class SupervisorActionKind(models.TextChoices):
    BREAK_REQUESTED = "break_requested", "Break requested"
    BREAK_APPROVED = "break_approved", "Break approved"
    BREAK_DENIED = "break_denied", "Break denied"
    BREAK_STARTED = "break_started", "Break started"
    BREAK_ENDED = "break_ended", "Break ended"
    BREAK_DUE = "break_due", "Break due"
    STATUS_SET = "status_set", "Status set"
    TRAINING_ASSIGNED = "training_assigned", "Training assigned"
    TRAINING_RESULT = "training_result", "Training result recorded"
    TRAINING_REMINDED = "training_reminded", "Training expiry reminder sent"
    TRAINING_EXPIRED = "training_expired", "Training expired"
