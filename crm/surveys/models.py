"""Surveys (each one the outbox row of its dispatch), the rules that suppress them, and the answers."""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from config.choices import Channel
from crm.choices import SurveyKind, SurveyStatus
from crm.interactions.models import Interaction


class Survey(models.Model):
    """A satisfaction survey for one interaction, and the outbox row of its dispatch.

    It is written in the resolution's transaction (so a crash between commit and publish loses nothing)
    and sent once ``dispatch_after`` has passed, by the on-commit task or the beat sweep, whichever comes
    first; the row lock and the status make a second sender a no-op. ``token`` is a random nonce; the
    customer's link carries it signed (``crm.surveys.services``), and the one-to-one response makes it
    single-use. One survey per interaction and kind: a reopened and re-resolved contact is not asked twice.
    """

    # no index of its own: survey_one_per_kind starts with it
    interaction = models.ForeignKey(Interaction, on_delete=models.CASCADE, related_name="surveys", db_index=False)
    kind = models.CharField(max_length=8, choices=SurveyKind.choices, default=SurveyKind.CSAT)
    token = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=16, choices=SurveyStatus.choices, default=SurveyStatus.PENDING)
    channel = models.CharField(max_length=16, choices=Channel.choices, blank=True, help_text="sent over")
    dispatch_after = models.DateTimeField(null=True, blank=True)
    leased_until = models.DateTimeField(
        null=True, blank=True, help_text="a publish is in flight until then; the sweep leaves the row alone"
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    suppressed_reason = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["interaction", "kind"], name="survey_one_per_kind"),
            models.CheckConstraint(condition=models.Q(status__in=SurveyStatus.values), name="survey_status_valid"),
            models.CheckConstraint(
                condition=~models.Q(status=SurveyStatus.SENT) | models.Q(sent_at__isnull=False),
                name="survey_sent_has_time",
            ),
        ]
        indexes = [
            # the sweep's pick: pending surveys by due time
            models.Index(
                fields=["dispatch_after"], name="survey_pending_due", condition=models.Q(status=SurveyStatus.PENDING)
            ),
            models.Index(fields=["sent_at"], name="survey_sent_at", condition=models.Q(sent_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for #{self.interaction_id}"


class SurveySuppressionRule(models.Model):
    """When not to ask: set by a supervisor per queue and/or channel (empty = any).

    A survey is dropped when the interaction's disposition or category is listed, or, for messaging
    channels, when the customer's last message is older than ``reply_window_hours`` at send time (a
    platform such as WhatsApp refuses business messages outside its 24-hour window).
    """

    queue = models.ForeignKey(
        "crm.Queue", null=True, blank=True, on_delete=models.CASCADE, related_name="survey_suppression_rules"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, blank=True)
    dispositions = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    categories = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    reply_window_hours = models.PositiveIntegerField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("survey suppression rule")
        verbose_name_plural = _("survey suppression rules")
        ordering = ["queue", "channel", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(channel="") | models.Q(channel__in=Channel.values), name="suppression_channel_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(reply_window_hours__isnull=True) | models.Q(reply_window_hours__gt=0),
                name="suppression_window_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"No survey: {self.queue or 'any queue'} / {self.channel or 'any channel'}"


class SurveyResponse(models.Model):
    """The customer's answer to a survey (one per survey)."""

    survey = models.OneToOneField(Survey, on_delete=models.CASCADE, related_name="response")
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    answered_at = models.DateTimeField()

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        ordering = ["-answered_at"]
        constraints = [models.CheckConstraint(condition=models.Q(score__lte=10), name="surveyresponse_score_max")]

    def __str__(self) -> str:
        return f"{self.score} for survey {self.survey_id}"
