"""Reading canned responses: the ones a caller may insert, in a queue or anywhere."""

from django.db.models import Q, QuerySet

from agents.access import Viewer

from ..models import CannedResponse, Queue
from .queues import queue_visibility_q


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
