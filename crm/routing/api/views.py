"""The queues' API.

Reads need the ``read`` scope; writes need ``admin``.

Who sees what: unrestricted callers (administrators, keys not bound to a team) see every queue; supervisors,
team-bound keys and agents see their teams' queues plus the queues that belong to no team, which
the whole center shares. Only unrestricted callers change shared queues; a team-bound admin key manages its own
teams' queues.
"""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_view
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from ..selectors import queue_list
from ..services.queues import queue_create, queue_delete, queue_update
from .filters import QueueFilter
from .serializers import QueueInputSerializer, QueueOutputSerializer
from .setup import SetupViewSet, setup_doc

QUEUE_VISIBILITY = (
    "Unrestricted callers see every queue; supervisors, team-bound keys and agents see their teams' queues "
    "and the queues of no team, which the whole center shares (only unrestricted callers change those)."
)


@extend_schema_view(
    list=setup_doc("List queues", 200, QueueOutputSerializer(many=True), description=QUEUE_VISIBILITY),
    retrieve=setup_doc("A queue with its live figures", 200, QueueOutputSerializer),
    create=setup_doc("Create a queue", 201, QueueOutputSerializer, conflict=True, request=QueueInputSerializer),
    update=setup_doc("Replace a queue", 200, QueueOutputSerializer, conflict=True, request=QueueInputSerializer),
    partial_update=setup_doc(
        "Change some fields of a queue",
        200,
        QueueOutputSerializer,
        conflict=True,
        request=QueueInputSerializer,
        description="`required_skills`, when given, replaces all the queue's requirements.",
    ),
    destroy=setup_doc(
        "Delete a queue",
        204,
        None,
        conflict=True,
        description="409 while the queue holds open interactions or another queue overflows into it.",
    ),
)
class QueueViewSet(SetupViewSet):
    serializer_class = QueueOutputSerializer
    filterset_class = QueueFilter
    ordering = ["name"]
    ordering_fields = ["name", "priority", "created_at", "id"]

    def get_queryset(self):
        return queue_list(viewer=self.viewer)

    def _get_for_write(self):
        queue = self.get_object()
        if not self.viewer.unrestricted and queue.team_id not in self.viewer.team_ids:
            raise exceptions.PermissionDenied(_("Only unrestricted callers may change queues shared by all teams."))
        return queue

    def create(self, request: Request) -> Response:
        data = dict(self._input(QueueInputSerializer).validated_data)
        skills = QueueInputSerializer.skill_requirements(data)
        data.pop("required_skills", None)
        queue = queue_create(**data, required_skills=skills or ())
        return self._output(queue.pk, status_code=status.HTTP_201_CREATED)

    def update(self, request: Request, pk=None, partial: bool = False) -> Response:
        queue = self._get_for_write()
        data = dict(self._input(QueueInputSerializer, partial=partial).validated_data)
        skills = QueueInputSerializer.skill_requirements(data)
        data.pop("required_skills", None)
        queue_update(queue=queue, data=data, required_skills=skills)
        return self._output(queue.pk)

    def destroy(self, request: Request, pk=None) -> Response:
        queue_delete(queue=self._get_for_write())
        return Response(status=status.HTTP_204_NO_CONTENT)
