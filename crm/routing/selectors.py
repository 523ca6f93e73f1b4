"""Reading queues, with their live figures, for the API, the console and the admin."""

import copy

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from agents.access import Viewer
from agents.models import AgentSkill
from config.rowcache import RowCache
from crm.choices import InteractionStatus
from crm.interactions.models import Interaction

from .models import Queue, QueueSkill


def queue_visibility_q(viewer: Viewer) -> Q:
    """Queues the viewer may see: all when unrestricted, else their teams' queues and the queues of no team.

    A queue without a team is shared by the whole center (e.g. a general overflow), so every
    authenticated caller sees it; only unrestricted callers may change it.
    """
    if viewer.unrestricted:
        return Q()
    return Q(team__isnull=True) | Q(team_id__in=viewer.team_ids)


def queue_with_live_figures(queryset: QuerySet[Queue]) -> QuerySet[Queue]:
    """Annotate ``waiting`` (queued interactions) and ``oldest_queued_at``.

    Correlated subqueries over the partial routing index (queued work only) rather than a join and
    GROUP BY over every interaction the queue ever had.
    """
    queued = Interaction.objects.filter(queue=OuterRef("pk"), status=InteractionStatus.QUEUED).order_by()
    return queryset.annotate(
        waiting=Coalesce(
            Subquery(queued.values("queue").annotate(n=Count("pk")).values("n"), output_field=IntegerField()), 0
        ),
        oldest_queued_at=Subquery(queued.order_by("queued_at").values("queued_at")[:1]),
    )


def queue_list(*, viewer: Viewer) -> QuerySet[Queue]:
    """The queues the viewer may see, with team, requirements and live figures loaded (no N+1)."""
    queryset = (
        Queue.objects.filter(queue_visibility_q(viewer))
        .select_related("team", "sla_policy")
        .prefetch_related(Prefetch("queue_skills", queryset=QueueSkill.objects.select_related("skill")))
    )
    return queue_with_live_figures(queryset)


def queues_served_by(*, agent_id: int) -> QuerySet[Queue]:
    """The active queues an agent can take work from: every skill the queue requires, at its minimum level.

    A queue requiring no skill is served by every agent. One query (a NOT EXISTS over the queue's
    requirements that the agent lacks).
    """
    held = AgentSkill.objects.filter(agent_id=agent_id, skill_id=OuterRef("skill_id"), level__gte=OuterRef("min_level"))
    lacking = QueueSkill.objects.filter(queue_id=OuterRef("pk")).exclude(Exists(held))
    return Queue.objects.filter(is_active=True).exclude(Exists(lacking))


# Queues by id and each channel's default queue, per process (``config.rowcache``): every create reads one. Any
# queue saved or deleted, or a team deleted (its queues lose it by an UPDATE that sends no signal), empties it in
# every process. Read on the primary; each caller gets its own copy of the row.
_queues = RowCache("queues", watch={"crm.Queue": None, "agents.Team": None})


def _own(queue: Queue | None) -> Queue | None:
    return copy.copy(queue) if queue is not None else None


def queue_default_for_channel(*, channel: str) -> Queue | None:
    """Where new work on ``channel`` goes when nobody names a queue: the highest-priority active queue serving it."""
    return _own(
        _queues.get(
            ("default", channel),
            lambda: (
                Queue.objects.using(DEFAULT_DB_ALIAS)
                .filter(is_active=True, channels__contains=[channel])
                .order_by("-priority", "id")
                .first()
            ),
        )
    )


def queue_by_id(*, queue_id: int) -> Queue | None:
    """The queue with this id (active or not), or None; from the per-process cache."""
    return _own(
        _queues.get(
            ("id", queue_id),
            lambda: Queue.objects.using(DEFAULT_DB_ALIAS).filter(pk=queue_id).first(),
            keep=lambda queue: queue is not None,
        )
    )


def queue_target(*, pk: int, viewer: Viewer) -> Queue | None:
    """The queue ``pk`` if ``viewer`` may put new interactions into it (``interaction_target_queues``), from the cache."""
    queue = queue_by_id(queue_id=pk)
    return queue if queue is not None and (viewer.unrestricted or queue.team_id in viewer.team_ids) else None


def interaction_target_queues(*, viewer: Viewer) -> QuerySet[Queue]:
    """Queues ``viewer`` may put new interactions into: any for the unrestricted, else their teams' queues."""
    if viewer.unrestricted:
        return Queue.objects.all()
    return Queue.objects.filter(team_id__in=viewer.team_ids)
