"""Quality reviews: sample interactions to review, score them on a scorecard.

Sampling makes pending reviews (one per interaction and scorecard: sampling again skips what is already
under review); completing one scores every criterion 0–5 and stores the weighted total on 0–100.
"""

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from agents.models import Agent
from config.errors import DomainError
from crm.choices import BAD_CSAT_MAX, InteractionStatus, ReviewStatus, SurveyKind
from crm.interactions.models import Interaction
from crm.routing.models import Queue
from crm.surveys.models import SurveyResponse

from .models import REVIEW_SCALE_MAX, Review, ReviewScore, Scorecard

MAX_SAMPLE = 500
REVIEWABLE = [InteractionStatus.RESOLVED, InteractionStatus.CLOSED, InteractionStatus.ABANDONED]


@dataclass(frozen=True)
class SampleSpec:
    """Where to sample from; ``count`` random interactions, or (``low_csat``) every one with CSAT ≤ 2."""

    scorecard: Scorecard
    start: datetime
    end: datetime
    queue: Queue | None = None
    agent: Agent | None = None
    count: int | None = None
    low_csat: bool = False
    # only interactions of these agents (a supervisor samples their teams' work); None: anyone's
    agent_ids: list[int] | None = None


def _candidates(spec: SampleSpec) -> QuerySet[Interaction]:
    qs = Interaction.objects.filter(
        status__in=REVIEWABLE, agent__isnull=False, created_at__gte=spec.start, created_at__lt=spec.end
    ).exclude(Exists(Review.objects.filter(interaction=OuterRef("pk"), scorecard=spec.scorecard)))
    if spec.queue is not None:
        qs = qs.filter(queue=spec.queue)
    if spec.agent is not None:
        qs = qs.filter(agent=spec.agent)
    if spec.agent_ids is not None:
        qs = qs.filter(agent_id__in=spec.agent_ids)
    if spec.low_csat:
        qs = qs.filter(
            Exists(
                SurveyResponse.objects.filter(
                    survey__interaction=OuterRef("pk"), survey__kind=SurveyKind.CSAT, score__lte=BAD_CSAT_MAX
                )
            )
        )
    return qs


def review_sample(*, spec: SampleSpec, actor: AbstractBaseUser | None = None) -> list[Review]:
    """Create pending reviews for a random sample (or all low-CSAT interactions) of the given slice."""
    errors: dict[str, list[str]] = {}
    if timezone.is_naive(spec.start) or timezone.is_naive(spec.end):
        errors["start"] = ["Give a time zone."]
    elif spec.end <= spec.start:
        errors["end"] = ["The end must be after the start."]
    if not spec.low_csat and (spec.count is None or not 1 <= spec.count <= MAX_SAMPLE):
        errors["count"] = [f"Enter a number from 1 to {MAX_SAMPLE}, or sample all low-CSAT interactions."]
    if not spec.scorecard.is_active:
        errors["scorecard"] = [f"Scorecard '{spec.scorecard}' is not active."]
    if errors:
        raise ValidationError(errors)
    ids = list(_candidates(spec).values_list("pk", "agent_id")[: MAX_SAMPLE * 20])
    if not spec.low_csat:
        ids = random.sample(ids, min(spec.count, len(ids)))  # noqa: S311 (a sample, not a secret)
    ids = ids[:MAX_SAMPLE]
    now = timezone.now()
    with transaction.atomic():
        Review.objects.bulk_create(
            [
                Review(interaction_id=pk, agent_id=agent_id, scorecard=spec.scorecard, sampled_by=actor, created_at=now)
                for pk, agent_id in ids
            ],
            ignore_conflicts=True,  # sampled concurrently by someone else: theirs stands (and has no pk here)
        )
        return list(
            Review.objects.filter(
                scorecard=spec.scorecard, interaction_id__in=[pk for pk, _ in ids], created_at=now
            ).order_by("id")
        )


def review_complete(
    *, review: Review, reviewer: AbstractBaseUser | None, scores: Mapping[str, int], comment: str = ""
) -> Review:
    """Score a pending review: ``scores`` maps each criterion name of its scorecard to 0–5; the weighted
    total on 0–100 is stored. Every criterion must be scored, and only once."""
    with transaction.atomic():
        locked = Review.objects.select_for_update().select_related("scorecard").get(pk=review.pk)
        if locked.status != ReviewStatus.PENDING:
            raise DomainError(gettext("This review is completed already."))
        criteria = list(locked.scorecard.criteria.all())
        by_name = {criterion.name.lower(): criterion for criterion in criteria}
        errors = []
        cleaned = {}
        for name, score in scores.items():
            criterion = by_name.get(str(name).lower())
            if criterion is None:
                errors.append(f"'{name}' is not a criterion of {locked.scorecard}.")
            elif isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= REVIEW_SCALE_MAX:
                errors.append(f"{criterion.name}: enter a whole number from 0 to {REVIEW_SCALE_MAX}.")
            else:
                cleaned[criterion.pk] = (criterion, score)
        missing = [criterion.name for criterion in criteria if criterion.pk not in cleaned]
        if missing and not errors:
            errors.append(f"Score every criterion; missing: {', '.join(missing)}.")
        if errors:
            raise ValidationError({"scores": errors})
        weight = sum(criterion.weight for criterion, _ in cleaned.values())
        total = Decimal(100 * sum(c.weight * s for c, s in cleaned.values())) / (weight * REVIEW_SCALE_MAX)
        ReviewScore.objects.bulk_create(
            ReviewScore(review=locked, criterion=criterion, score=score) for criterion, score in cleaned.values()
        )
        locked.status, locked.reviewer, locked.comment = ReviewStatus.COMPLETED, reviewer, (comment or "").strip()
        locked.total_score = total.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        locked.completed_at = timezone.now()
        locked.save(update_fields=["status", "reviewer", "comment", "total_score", "completed_at"])
    return locked
