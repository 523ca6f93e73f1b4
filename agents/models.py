from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from .choices import (
    OPEN_TRAINING_STATUSES,
    PENDING_BREAK_STATUSES,
    AgentStatus,
    BreakDueReason,
    BreakKind,
    BreakStatus,
    SupervisorActionKind,
    TrainingStatus,
)

MIN_SKILL_LEVEL, MAX_SKILL_LEVEL = 1, 5


class Team(models.Model):
    """A group of agents led by one or more supervisors; supervisors see their teams' work."""

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    supervisors = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="supervised_teams")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name, verbose_name_plural = _("team"), _("teams")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="team_name_ci_unique")]

    def __str__(self) -> str:
        return self.name


class Skill(models.Model):
    """Something an agent can do (billing, tech support, Spanish…); queues require skills at a minimum level."""

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name, verbose_name_plural = _("skill"), _("skills")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="skill_name_ci_unique")]

    def __str__(self) -> str:
        return self.name


class Agent(models.Model):
    """The working profile of a user who handles interactions.

    ``capacity`` says how many interactions of each channel the agent handles at once, e.g.
    ``{"voice": 1, "chat": 3, "email": 5}``; a channel not listed is not handled. ``status`` is the
    current presence; every change is appended to ``AgentStatusLog`` by ``agents.services.agent_set_status``.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent")
    name = models.CharField(max_length=200)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="agents")
    capacity = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=AgentStatus.choices, default=AgentStatus.OFFLINE)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True, help_text="inactive agents are never routed to")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    skills = models.ManyToManyField(Skill, through="AgentSkill", related_name="agents")

    class Meta:
        verbose_name, verbose_name_plural = _("agent"), _("agents")
        ordering = ["name"]
        indexes = [models.Index(fields=["status", "status_changed_at"], name="agent_status_since")]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=AgentStatus.values), name="agent_status_valid"),
        ]

    def __str__(self) -> str:
        return self.name

    def capacity_for(self, channel: str) -> int:
        return int(self.capacity.get(channel, 0))


class AgentSkill(models.Model):
    """An agent's level (1–5) in a skill."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="agent_skills")
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="agent_skills")
    level = models.PositiveSmallIntegerField(default=3)

    class Meta:
        ordering = ["skill__name"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "skill"], name="agentskill_unique"),
            models.CheckConstraint(
                condition=models.Q(level__gte=MIN_SKILL_LEVEL, level__lte=MAX_SKILL_LEVEL), name="agentskill_level_1_5"
            ),
        ]
        indexes = [models.Index(fields=["skill", "level"], name="agentskill_skill_level")]

    def __str__(self) -> str:
        return f"{self.agent} · {self.skill} {self.level}"


class AgentStatusLog(models.Model):
    """Append-only record of every presence change: occupancy and time in state are measured from it.

    A database trigger rejects UPDATE on this table; rows are only ever inserted.
    """

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="status_log")
    status = models.CharField(max_length=16, choices=AgentStatus.choices)
    previous_status = models.CharField(max_length=16, choices=AgentStatus.choices, blank=True)
    changed_at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name, verbose_name_plural = _("agent status log"), _("agent status logs")
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["agent", "-changed_at"], name="statuslog_agent_time")]

    def __str__(self) -> str:
        return f"{self.agent_id}: {self.previous_status or '-'} → {self.status} at {self.changed_at:%Y-%m-%d %H:%M:%S}"


# --- training ------------------------------------------------------------------------------------


class TrainingCourse(models.Model):
    """A course; when it certifies a skill and is active, that skill counts for routing only with a valid pass.

    ``validity_days`` empty means a pass never expires.
    """

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    skill = models.ForeignKey(
        Skill, null=True, blank=True, on_delete=models.SET_NULL, related_name="courses", help_text="skill it certifies"
    )
    validity_days = models.PositiveIntegerField(null=True, blank=True, help_text="empty: a pass never expires")
    pass_score = models.PositiveSmallIntegerField(default=80, help_text="0–100")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name, verbose_name_plural = _("training course"), _("training courses")
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(Lower("title"), name="trainingcourse_title_ci_unique"),
            models.CheckConstraint(condition=models.Q(pass_score__lte=100), name="trainingcourse_pass_score_0_100"),
            models.CheckConstraint(
                condition=models.Q(validity_days__isnull=True) | models.Q(validity_days__gt=0),
                name="trainingcourse_validity_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class TrainingRecord(models.Model):
    """One agent's go at one course: assigned, in progress, then passed or failed; a pass lapses at ``expires_at``.

    A record that lapsed is marked ``expired`` by the expiry sweep, but routing does not wait for it: the
    certification filter (``agents.selectors.agent_skill_certified_q``) compares ``expires_at`` with the clock.
    """

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="training_records")
    course = models.ForeignKey(TrainingCourse, on_delete=models.PROTECT, related_name="records")
    status = models.CharField(max_length=16, choices=TrainingStatus.choices, default=TrainingStatus.ASSIGNED)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    assigned_at = models.DateTimeField()
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_at = models.DateTimeField(null=True, blank=True, help_text="complete by; later is overdue")
    completed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name, verbose_name_plural = _("training record"), _("training records")
        ordering = ["-assigned_at", "-id"]
        indexes = [
            models.Index(fields=["agent", "course", "status"], name="trainingrecord_agent_course"),
            models.Index(
                fields=["expires_at"],
                name="trainingrecord_pass_expiry",
                condition=models.Q(status=TrainingStatus.PASSED),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=TrainingStatus.values), name="trainingrecord_status_valid"
            ),
            models.CheckConstraint(condition=models.Q(score__lte=100), name="trainingrecord_score_0_100"),
            models.UniqueConstraint(
                fields=["agent", "course"],
                condition=models.Q(status__in=sorted(OPEN_TRAINING_STATUSES)),
                name="trainingrecord_one_open_per_course",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=[TrainingStatus.PASSED, TrainingStatus.FAILED])
                | (models.Q(completed_at__isnull=False) & models.Q(score__isnull=False)),
                name="trainingrecord_result_has_score",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent} · {self.course} ({self.get_status_display()})"


class TrainingReminder(models.Model):
    """A reminder sent before a pass expires: one row per record and lead time, so none is sent twice."""

    record = models.ForeignKey(TrainingRecord, on_delete=models.CASCADE, related_name="reminders")
    days_before = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(fields=["record", "days_before"], name="trainingreminder_once"),
        ]

    def __str__(self) -> str:
        return f"{self.record_id}: {self.days_before} days before"


# --- breaks --------------------------------------------------------------------------------------


class BreakType(models.Model):
    """A kind of break and its usual length; the five kinds are seeded by a migration."""

    code = models.CharField(max_length=16, choices=BreakKind.choices, unique=True)
    name = models.CharField(max_length=100)
    default_minutes = models.PositiveSmallIntegerField()
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name, verbose_name_plural = _("break type"), _("break types")
        ordering = ["name"]
        constraints = [models.CheckConstraint(condition=models.Q(default_minutes__gt=0), name="breaktype_minutes_pos")]

    def __str__(self) -> str:
        return self.name


class Break(models.Model):
    """A break: requested by the agent (or sent by a supervisor), approved or denied, scheduled, started, ended.

    While it is started the agent is ``on_break``, so routing sends nothing new; work already owned finishes.
    The database allows one started and one pending break per agent.
    """

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="breaks")
    break_type = models.ForeignKey(BreakType, on_delete=models.PROTECT, related_name="breaks")
    status = models.CharField(max_length=16, choices=BreakStatus.choices, default=BreakStatus.REQUESTED)
    minutes = models.PositiveSmallIntegerField(help_text="planned length")
    reason = models.CharField(max_length=200, blank=True)
    requested_at = models.DateTimeField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    scheduled_for = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name, verbose_name_plural = _("break"), _("breaks")
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["agent", "-requested_at"], name="break_agent_time")]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=BreakStatus.values), name="break_status_valid"),
            models.CheckConstraint(condition=models.Q(minutes__gt=0), name="break_minutes_positive"),
            models.UniqueConstraint(
                fields=["agent"], condition=models.Q(status=BreakStatus.STARTED), name="break_one_started_per_agent"
            ),
            models.UniqueConstraint(
                fields=["agent"],
                condition=models.Q(status__in=sorted(PENDING_BREAK_STATUSES)),
                name="break_one_pending_per_agent",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=[BreakStatus.STARTED, BreakStatus.ENDED])
                | models.Q(started_at__isnull=False),
                name="break_started_has_time",
            ),
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True) | models.Q(ended_at__gte=models.F("started_at")),
                name="break_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent} · {self.break_type} ({self.get_status_display()})"


class BreakPolicy(models.Model):
    """When a team's agents are due a well-being break, and how many of them may be on break at once.

    Continuous handling is busy/wrap-up time with no break, no logout and no available gap of at least
    ``reset_gap_minutes``. ``bad_outcome_streak`` 0 turns the streak rule off. ``max_on_break_share`` keeps
    queues served: break_start refuses once that share of the team's logged-in agents is on break (but one
    agent may always go).
    """

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="break_policy")
    well_being_minutes = models.PositiveSmallIntegerField(default=10)
    continuous_handling_minutes = models.PositiveSmallIntegerField(default=120)
    reset_gap_minutes = models.PositiveSmallIntegerField(default=5)
    bad_outcome_streak = models.PositiveSmallIntegerField(default=3, help_text="0: off")
    max_on_break_share = models.DecimalField(max_digits=3, decimal_places=2, default=0.25, help_text="0–1")
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name, verbose_name_plural = _("break policy"), _("break policies")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_on_break_share__gte=0, max_on_break_share__lte=1),
                name="breakpolicy_share_0_1",
            ),
            models.CheckConstraint(
                condition=models.Q(well_being_minutes__gt=0, continuous_handling_minutes__gt=0),
                name="breakpolicy_minutes_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"Break policy of {self.team}"


class BreakDueNotice(models.Model):
    """A well-being break fell due. ``since`` is when the run that made it due began, so the sweep records
    (and announces) each run once however often it runs."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="break_due_notices")
    reason = models.CharField(max_length=24, choices=BreakDueReason.choices)
    since = models.DateTimeField()
    due_at = models.DateTimeField()
    minutes = models.PositiveSmallIntegerField()
    detail = models.CharField(max_length=200, blank=True)
    taken = models.ForeignKey(Break, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name, verbose_name_plural = _("break due notice"), _("break due notices")
        ordering = ["-due_at"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "reason", "since"], name="breakduenotice_once"),
        ]

    def __str__(self) -> str:
        return f"{self.agent}: {self.get_reason_display()} at {self.due_at:%H:%M}"


# --- audit ---------------------------------------------------------------------------------------


class SupervisorAction(models.Model):
    """Who did what to an agent's breaks, training or status: the supervision audit log (append-only by use).

    ``actor`` empty means the system (a beat task). ``object_id`` names the break or training record.
    """

    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    agent = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=24, choices=SupervisorActionKind.choices)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name, verbose_name_plural = _("supervisor action"), _("supervisor actions")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["agent", "-at"], name="supervisoraction_agent_time")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()}"


from .audit_models import AuditEntry, AuditSource  # noqa: E402,F401  (Django finds models imported here)
from .preference_models import UserPreference  # noqa: E402, F401  (a model of this app, kept in its own module)
from .routing_models import AgentRouting  # noqa: E402, F401  (a model of this app, kept in its own module)
