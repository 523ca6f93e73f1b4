from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from .choices import AgentStatus

MIN_SKILL_LEVEL, MAX_SKILL_LEVEL = 1, 5


class Team(models.Model):
    """A group of agents led by one or more supervisors; supervisors see their teams' work."""

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    supervisors = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="supervised_teams")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
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
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["agent", "-changed_at"], name="statuslog_agent_time")]

    def __str__(self) -> str:
        return f"{self.agent_id}: {self.previous_status or '-'} → {self.status} at {self.changed_at:%Y-%m-%d %H:%M:%S}"
