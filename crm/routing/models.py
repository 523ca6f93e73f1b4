"""Queues: where interactions wait, with the skills they require and how their waiting work moves on."""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from agents.models import MAX_SKILL_LEVEL, MIN_SKILL_LEVEL, Skill, Team
from config.choices import Channel
from crm.choices import SurveyKind


class Queue(models.Model):
    """Where interactions wait for an agent with the required skills.

    Higher ``priority`` queues are served first. After ``overflow_after_seconds`` of waiting an
    interaction moves to ``overflow_queue``. ``service_level_seconds`` is the answer threshold of the
    service-level KPI (e.g. 80 % in 20 s). An offer (``assigned``) not accepted within
    ``accept_timeout_seconds`` is redirected (``crm.routing.services.offers``); ``auto_accept`` queues skip the
    offer.
    """

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="queues", help_text="the team that owns it"
    )
    channels = ArrayField(models.CharField(max_length=16, choices=Channel.choices), default=list)
    priority = models.PositiveSmallIntegerField(default=5, help_text="1 (lowest) to 10 (highest)")
    sla_policy = models.ForeignKey(
        "crm.SLAPolicy", null=True, blank=True, on_delete=models.SET_NULL, related_name="queues"
    )
    overflow_queue = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="overflow_sources"
    )
    overflow_after_seconds = models.PositiveIntegerField(null=True, blank=True)
    service_level_seconds = models.PositiveIntegerField(default=20)
    service_level_target = models.DecimalField(max_digits=4, decimal_places=3, default=0.8)
    accept_timeout_seconds = models.PositiveIntegerField(
        null=True,
        blank=True,
        default=30,
        help_text="an offer not accepted within this goes back to the queue and its agent to 'not ready'; "
        "empty: offers wait",
    )
    auto_accept = models.BooleanField(
        default=False, help_text="work is accepted as it is assigned (e.g. email, where nobody has to pick up)"
    )
    surveys_enabled = models.BooleanField(default=True, help_text="send a survey after each resolution")
    survey_kind = models.CharField(max_length=8, choices=SurveyKind.choices, default=SurveyKind.CSAT)
    survey_delay_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="wait this long after resolution; empty = SURVEY_DISPATCH_DELAY"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    required_skills = models.ManyToManyField(Skill, through="QueueSkill", related_name="queues")

    class Meta:
        verbose_name = _("queue")
        verbose_name_plural = _("queues")
        ordering = ["-priority", "name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="queue_name_ci_unique"),
            models.CheckConstraint(condition=models.Q(priority__gte=1, priority__lte=10), name="queue_priority_1_10"),
            models.CheckConstraint(
                condition=models.Q(overflow_queue__isnull=True) | ~models.Q(overflow_queue=models.F("id")),
                name="queue_overflow_not_self",
            ),
            models.CheckConstraint(
                condition=models.Q(service_level_target__gt=0, service_level_target__lte=1),
                name="queue_service_level_target_fraction",
            ),
            models.CheckConstraint(
                condition=models.Q(accept_timeout_seconds__isnull=True) | models.Q(accept_timeout_seconds__gt=0),
                name="queue_accept_timeout_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class QueueSkill(models.Model):
    """A skill a queue requires, at a minimum level."""

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="queue_skills")
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="queue_skills")
    min_level = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["skill__name"]
        constraints = [
            models.UniqueConstraint(fields=["queue", "skill"], name="queueskill_unique"),
            models.CheckConstraint(
                condition=models.Q(min_level__gte=MIN_SKILL_LEVEL, min_level__lte=MAX_SKILL_LEVEL),
                name="queueskill_level_1_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.queue} needs {self.skill} ≥ {self.min_level}"
