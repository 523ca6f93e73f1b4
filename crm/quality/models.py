"""Quality: scorecards, the reviews that score interactions on them, and canned responses."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from agents.models import Agent
from crm.choices import ReviewStatus
from crm.interactions.models import Interaction

REVIEW_SCALE_MAX = 5


class Scorecard(models.Model):
    """What a quality review scores: weighted criteria (greeting, empathy, accuracy, resolution, compliance…)."""

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("scorecard")
        verbose_name_plural = _("scorecards")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="scorecard_name_ci_unique")]

    def __str__(self) -> str:
        return self.name


class ScorecardCriterion(models.Model):
    """One criterion of a scorecard and its weight in the review's total."""

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="criteria")
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    weight = models.PositiveSmallIntegerField(default=1)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["scorecard", "position", "id"]
        verbose_name_plural = _("scorecard criteria")
        constraints = [
            models.UniqueConstraint(fields=["scorecard", "name"], name="scorecardcriterion_unique_name"),
            models.CheckConstraint(condition=models.Q(weight__gt=0), name="scorecardcriterion_weight_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ×{self.weight}"


class Review(models.Model):
    """A supervisor's quality review of one interaction: pending when sampled, completed when scored.

    ``agent`` is who handled the interaction when it was sampled, kept so the per-agent QA score and the
    agent's own view do not depend on later reassignments. ``total_score`` (0–100) is the weighted mean of
    the criterion scores.
    """

    interaction = models.ForeignKey(Interaction, on_delete=models.CASCADE, related_name="reviews")
    agent = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews")
    scorecard = models.ForeignKey(Scorecard, on_delete=models.PROTECT, related_name="reviews")
    status = models.CharField(max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.PENDING)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sampled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    comment = models.TextField(blank=True)
    total_score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["agent", "status", "-completed_at"], name="review_agent_status")]
        constraints = [
            models.UniqueConstraint(fields=["interaction", "scorecard"], name="review_once_per_scorecard"),
            models.CheckConstraint(condition=models.Q(status__in=ReviewStatus.values), name="review_status_valid"),
            models.CheckConstraint(
                condition=models.Q(total_score__isnull=True) | models.Q(total_score__gte=0, total_score__lte=100),
                name="review_total_0_100",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=ReviewStatus.COMPLETED)
                | models.Q(total_score__isnull=False, completed_at__isnull=False),
                name="review_completed_has_score",
            ),
        ]

    def __str__(self) -> str:
        return f"Review of #{self.interaction_id} ({self.get_status_display()})"


class ReviewScore(models.Model):
    """The score (0–5) one review gave one criterion."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(ScorecardCriterion, on_delete=models.PROTECT, related_name="+")
    score = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["criterion__position", "criterion_id"]
        constraints = [
            models.UniqueConstraint(fields=["review", "criterion"], name="reviewscore_unique"),
            models.CheckConstraint(condition=models.Q(score__lte=REVIEW_SCALE_MAX), name="reviewscore_0_5"),
        ]

    def __str__(self) -> str:
        return f"{self.criterion_id}: {self.score}"


class CannedResponse(models.Model):
    """A ready-made reply an agent inserts instead of typing it again (by title, or by its ``shortcut``).

    A response tied to a ``queue`` is offered only there; one without a queue is offered everywhere.
    Shortcuts are typed by hand, so they are unique regardless of case.
    """

    title = models.CharField(max_length=200)
    body = models.TextField()
    shortcut = models.CharField(max_length=50, blank=True, help_text="e.g. 'thanks', typed as /thanks")
    queue = models.ForeignKey(
        "crm.Queue",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="canned_responses",
        help_text="empty: offered in every queue",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")
        ordering = ["title", "id"]
        indexes = [models.Index(fields=["queue", "title"], name="cannedresponse_queue_title")]
        constraints = [
            models.UniqueConstraint(
                Lower("shortcut"), name="cannedresponse_shortcut_ci_unique", condition=~models.Q(shortcut="")
            ),
        ]

    def __str__(self) -> str:
        return self.title
