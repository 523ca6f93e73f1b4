"""Quality reviews as readers see them (per viewer, per agent, the per-agent QA score for reporting), and the
canned responses a caller may insert."""

from datetime import datetime

from django.db.models import Avg, Count, Prefetch, Q, QuerySet

from agents.access import Viewer
from agents.models import Agent
from crm.choices import ReviewStatus
from crm.routing.models import Queue
from crm.routing.selectors import queue_visibility_q

from .models import CannedResponse, Review, ReviewScore


def review_list(*, viewer: Viewer) -> QuerySet[Review]:
    """Reviews ``viewer`` may read: all (unrestricted), their teams' agents' (supervisor, team key), or — for a
    plain agent — their own completed ones (a pending review has nothing to read yet)."""
    reviews = Review.objects.select_related("scorecard", "agent", "interaction").prefetch_related(
        Prefetch("scores", queryset=ReviewScore.objects.select_related("criterion"))
    )
    if viewer.unrestricted:
        return reviews
    visible = Q(pk__in=[])
    if not viewer.is_agent_only and viewer.team_ids:
        visible |= Q(agent__team_id__in=viewer.team_ids)
    if viewer.agent_id is not None:
        visible |= Q(agent_id=viewer.agent_id, status=ReviewStatus.COMPLETED)
    return reviews.filter(visible)


def agent_reviews(*, agent: Agent, limit: int = 10) -> list[Review]:
    """The agent's latest completed reviews, scores included (console "my reviews")."""
    return list(
        Review.objects.filter(agent=agent, status=ReviewStatus.COMPLETED)
        .select_related("scorecard", "interaction")
        .prefetch_related(Prefetch("scores", queryset=ReviewScore.objects.select_related("criterion")))
        .order_by("-completed_at", "-id")[:limit]
    )


def agent_qa_scores(
    *, agent_ids: list[int] | None = None, start: datetime | None = None, end: datetime | None = None
) -> dict[int, tuple[float, int]]:
    """Per agent id: (average total score of completed reviews, number of reviews); agents without any are
    absent, so reporting shows a QA score only where one exists."""
    reviews = Review.objects.filter(status=ReviewStatus.COMPLETED, agent__isnull=False)
    if agent_ids is not None:
        reviews = reviews.filter(agent_id__in=agent_ids)
    if start is not None:
        reviews = reviews.filter(completed_at__gte=start)
    if end is not None:
        reviews = reviews.filter(completed_at__lt=end)
    return {
        row["agent_id"]: (float(row["avg"]), row["n"])
        for row in reviews.values("agent_id").annotate(avg=Avg("total_score"), n=Count("pk")).order_by()
    }


def canned_response_list(
    *, viewer: Viewer, queue_id: int | None = None, search: str = "", is_active: bool | None = None
) -> QuerySet[CannedResponse]:
    """Canned responses the viewer may use.

    Restricted callers (agents, supervisors, team-bound keys) see the active ones of the queues they see
    plus the global ones (no queue); unrestricted callers see all, inactive included, to manage them.
    ``queue_id`` narrows to what an agent working in that queue may insert: its own and the global ones.
    """
    queryset = CannedResponse.objects.all()
    if not viewer.unrestricted:
        visible_queue = Q(queue__isnull=True) | Q(queue__in=Queue.objects.filter(queue_visibility_q(viewer)))
        queryset = queryset.filter(visible_queue, is_active=True)
    if queue_id is not None:
        queryset = queryset.filter(Q(queue_id=queue_id) | Q(queue__isnull=True))
    if is_active is not None:
        queryset = queryset.filter(is_active=is_active)
    if search:
        queryset = queryset.filter(
            Q(title__icontains=search) | Q(shortcut__icontains=search) | Q(body__icontains=search)
        )
    return queryset
