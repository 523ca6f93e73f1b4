from django.db import models
from django.utils.translation import gettext_lazy as _


class AgentStatus(models.TextChoices):
    OFFLINE = "offline", _("Offline")
    AVAILABLE = "available", _("Available")
    BUSY = "busy", _("Busy")
    WRAP_UP = "wrap_up", _("Wrap-up")
    ON_BREAK = "on_break", _("On break")
    NOT_READY = "not_ready", _("Not ready")


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
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")


# A record still waiting for its result; one such record per agent and course at a time.
OPEN_TRAINING_STATUSES = frozenset({TrainingStatus.ASSIGNED, TrainingStatus.IN_PROGRESS})


class BreakKind(models.TextChoices):
    SHORT = "short", _("Short break")
    LUNCH = "lunch", _("Lunch")
    WELL_BEING = "well_being", _("Well-being break")
    TRAINING = "training", _("Training")
    COACHING = "coaching", _("Coaching")


# Usual lengths in minutes (seeded into BreakType by a migration; supervisors may change them there).
BREAK_DEFAULT_MINUTES = {
    BreakKind.SHORT: 5,
    BreakKind.LUNCH: 30,
    BreakKind.WELL_BEING: 10,
    BreakKind.TRAINING: 30,
    BreakKind.COACHING: 15,
}


class BreakStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    DENIED = "denied", _("Denied")
    SCHEDULED = "scheduled", _("Scheduled")
    STARTED = "started", _("Started")
    ENDED = "ended", _("Ended")


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
    CONTINUOUS_HANDLING = "continuous_handling", _("Long continuous handling")
    BAD_OUTCOMES = "bad_outcomes", _("A run of difficult contacts")


class SupervisorActionKind(models.TextChoices):
    BREAK_REQUESTED = "break_requested", _("Break requested")
    BREAK_APPROVED = "break_approved", _("Break approved")
    BREAK_DENIED = "break_denied", _("Break denied")
    BREAK_STARTED = "break_started", _("Break started")
    BREAK_ENDED = "break_ended", _("Break ended")
    BREAK_DUE = "break_due", _("Break due")
    STATUS_SET = "status_set", _("Status set")
    TRAINING_ASSIGNED = "training_assigned", _("Training assigned")
    TRAINING_RESULT = "training_result", _("Training result recorded")
    TRAINING_REMINDED = "training_reminded", _("Training expiry reminder sent")
    TRAINING_EXPIRED = "training_expired", _("Training expired")
