"""Set-up resources of the API: queues, SLA policies, and a customer's timeline.

Reads need the ``read`` scope; writes to queues and SLA policies need ``admin``.

Who sees what: unrestricted callers (administrators, keys not bound to a team) see every queue; supervisors,
team-bound keys and agents see their teams' queues plus the queues that belong to no team, which
the whole center shares. Only unrestricted callers change shared queues and SLA policies (center-wide
configuration); a team-bound admin key manages its own teams' queues.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from agents.access import Viewer, viewer_from_request
from config.api.permissions import ADMIN
from contacts.models import Customer

from ...selectors.queues import business_hours_list, queue_list, sla_policy_list
from ...selectors.timeline import TimelineCursor, customer_timeline
from ...services.calendars import (
    HolidaySpec,
    PeriodSpec,
    business_hours_create,
    business_hours_delete,
    business_hours_update,
)
from ...services.queues import (
    KEEP,
    queue_create,
    queue_delete,
    queue_update,
    sla_policy_create,
    sla_policy_delete,
    sla_policy_update,
    target_spec,
)
from .filters import QueueFilter, SLAPolicyFilter
from .serializers import (
    BusinessHoursInputSerializer,
    BusinessHoursOutputSerializer,
    QueueInputSerializer,
    QueueOutputSerializer,
    SLAPolicyInputSerializer,
    SLAPolicyOutputSerializer,
    TimelineOutputSerializer,
    TimelineQuerySerializer,
)

# The schema class (config.api.schema) documents the errors every operation can give (400, 401, 403, 404,
# 413, 415); only what is particular to these resources is said here.
CONFLICT = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description=(
        'A name already taken, as field messages ({"name": ["…"]}), or a deletion refused because '
        'the object is in use, as {"detail": "…", "code": "…", "status": 409}'
    ),
)


def _doc(summary: str, ok: int, body, *, conflict: bool = False, **kwargs):
    """``extend_schema`` with the success response, and this resource's 409 where a write can meet one."""
    responses = {ok: body, 409: CONFLICT} if conflict else {ok: body}
    return extend_schema(summary=summary, responses=responses, **kwargs)


ADMIN_WRITES = {"POST": ADMIN, "PUT": ADMIN, "PATCH": ADMIN, "DELETE": ADMIN}


class _SetupViewSet(viewsets.GenericViewSet):
    """Plain CRUD whose writes go through services and answer with the re-read (annotated) object."""

    required_scope = ADMIN_WRITES
    # Any malformed id ("1.5", "abc") reaches the view and is this API's JSON 404, not Django's HTML page.
    lookup_value_regex = "[^/]+"

    @property
    def viewer(self) -> Viewer:
        return viewer_from_request(self.request)

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, pk=None) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    def partial_update(self, request: Request, pk=None) -> Response:
        return self.update(request, pk, partial=True)

    def _output(self, pk: int, *, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data, status=status_code)

    def _input(self, serializer_class, *, partial: bool = False):
        serializer = serializer_class(data=self.request.data, partial=partial, context={"viewer": self.viewer})
        serializer.is_valid(raise_exception=True)
        return serializer


QUEUE_VISIBILITY = (
    "Unrestricted callers see every queue; supervisors, team-bound keys and agents see their teams' queues "
    "and the queues of no team, which the whole center shares (only unrestricted callers change those)."
)


@extend_schema_view(
    list=_doc("List queues", 200, QueueOutputSerializer(many=True), description=QUEUE_VISIBILITY),
    retrieve=_doc("A queue with its live figures", 200, QueueOutputSerializer),
    create=_doc("Create a queue", 201, QueueOutputSerializer, conflict=True, request=QueueInputSerializer),
    update=_doc("Replace a queue", 200, QueueOutputSerializer, conflict=True, request=QueueInputSerializer),
    partial_update=_doc(
        "Change some fields of a queue",
        200,
        QueueOutputSerializer,
        conflict=True,
        request=QueueInputSerializer,
        description="`required_skills`, when given, replaces all the queue's requirements.",
    ),
    destroy=_doc(
        "Delete a queue",
        204,
        None,
        conflict=True,
        description="409 while the queue holds open interactions or another queue overflows into it.",
    ),
)
class QueueViewSet(_SetupViewSet):
    serializer_class = QueueOutputSerializer
    filterset_class = QueueFilter
    ordering = ["name"]
    ordering_fields = ["name", "priority", "created_at", "id"]

    def get_queryset(self):
        return queue_list(viewer=self.viewer)

    def _get_for_write(self):
        queue = self.get_object()
        if not self.viewer.unrestricted and queue.team_id not in self.viewer.team_ids:
            raise exceptions.PermissionDenied("Only unrestricted callers may change queues shared by all teams.")
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


@extend_schema_view(
    list=_doc("List SLA policies", 200, SLAPolicyOutputSerializer(many=True)),
    retrieve=_doc("An SLA policy with its targets", 200, SLAPolicyOutputSerializer),
    create=_doc(
        "Create an SLA policy", 201, SLAPolicyOutputSerializer, conflict=True, request=SLAPolicyInputSerializer
    ),
    update=_doc(
        "Replace an SLA policy", 200, SLAPolicyOutputSerializer, conflict=True, request=SLAPolicyInputSerializer
    ),
    partial_update=_doc(
        "Change some fields of an SLA policy",
        200,
        SLAPolicyOutputSerializer,
        conflict=True,
        request=SLAPolicyInputSerializer,
        description="`targets`, when given, replaces all the policy's targets.",
    ),
    destroy=_doc(
        "Delete an SLA policy",
        204,
        None,
        conflict=True,
        description="409 while a queue uses the policy: deleting it would silently leave those queues without "
        "any service-level promise. Point them at another policy first, or deactivate the policy.",
    ),
)
class SLAPolicyViewSet(_SetupViewSet):
    """SLA policies are center-wide: every caller reads them, only unrestricted admin callers change them."""

    serializer_class = SLAPolicyOutputSerializer
    filterset_class = SLAPolicyFilter
    ordering = ["name"]
    ordering_fields = ["name", "created_at", "id"]

    def get_queryset(self):
        return sla_policy_list()

    def _require_unrestricted(self) -> None:
        if not self.viewer.unrestricted:
            raise exceptions.PermissionDenied(
                "SLA policies are shared by all teams; a team-bound key cannot change them."
            )

    def create(self, request: Request) -> Response:
        self._require_unrestricted()
        data = dict(self._input(SLAPolicyInputSerializer).validated_data)
        policy = sla_policy_create(
            **SLAPolicyInputSerializer.service_kwargs(data),
            targets=SLAPolicyInputSerializer.target_specs(data) or (),
            default_target=data.get("default_target"),
        )
        return self._output(policy.pk, status_code=status.HTTP_201_CREATED)

    def update(self, request: Request, pk=None, partial: bool = False) -> Response:
        policy = self.get_object()
        self._require_unrestricted()
        default = next((t for t in policy.targets.all() if t.is_default), None)
        serializer = SLAPolicyInputSerializer(
            data=request.data,
            partial=partial,
            context={"viewer": self.viewer, "default_target": target_spec(default) if default else None},
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        targets = SLAPolicyInputSerializer.target_specs(data)
        if not partial and targets is None:
            targets = []  # a PUT without overrides has none
        sla_policy_update(
            policy=policy,
            data=SLAPolicyInputSerializer.service_kwargs(data),
            targets=targets,
            default_target=data.get("default_target", KEEP),
        )
        return self._output(policy.pk)

    def destroy(self, request: Request, pk=None) -> Response:
        policy = self.get_object()
        self._require_unrestricted()
        sla_policy_delete(policy=policy)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=_doc("List business-hours calendars", 200, BusinessHoursOutputSerializer(many=True)),
    retrieve=_doc("A calendar with its periods and holidays", 200, BusinessHoursOutputSerializer),
    create=_doc(
        "Create a calendar", 201, BusinessHoursOutputSerializer, conflict=True, request=BusinessHoursInputSerializer
    ),
    update=_doc(
        "Replace a calendar", 200, BusinessHoursOutputSerializer, conflict=True, request=BusinessHoursInputSerializer
    ),
    partial_update=_doc(
        "Change some fields of a calendar",
        200,
        BusinessHoursOutputSerializer,
        conflict=True,
        request=BusinessHoursInputSerializer,
        description="`periods` and `holidays`, when given, replace them all. Open interactions under policies "
        "using the calendar get their due times recomputed.",
    ),
    destroy=_doc("Delete a calendar", 204, None, conflict=True, description="409 while an SLA policy uses it."),
)
class BusinessHoursViewSet(_SetupViewSet):
    """Business-hours calendars are center-wide, like SLA policies: every caller reads, unrestricted admins write."""

    serializer_class = BusinessHoursOutputSerializer
    ordering = ["name"]
    ordering_fields = ["name", "created_at", "id"]

    def get_queryset(self):
        return business_hours_list()

    def _require_unrestricted(self) -> None:
        if not self.viewer.unrestricted:
            raise exceptions.PermissionDenied("Calendars are shared by all teams; a team-bound key cannot change them.")

    @staticmethod
    def _specs(data: dict):
        periods = [PeriodSpec(**p) for p in data.pop("periods")] if "periods" in data else None
        holidays = [HolidaySpec(**h) for h in data.pop("holidays")] if "holidays" in data else None
        return periods, holidays

    def create(self, request: Request) -> Response:
        self._require_unrestricted()
        data = dict(self._input(BusinessHoursInputSerializer).validated_data)
        periods, holidays = self._specs(data)
        calendar = business_hours_create(**data, periods=periods or (), holidays=holidays or ())
        return self._output(calendar.pk, status_code=status.HTTP_201_CREATED)

    def update(self, request: Request, pk=None, partial: bool = False) -> Response:
        calendar = self.get_object()
        self._require_unrestricted()
        data = dict(self._input(BusinessHoursInputSerializer, partial=partial).validated_data)
        periods, holidays = self._specs(data)
        if not partial and holidays is None:
            holidays = []
        business_hours_update(calendar=calendar, data=data, periods=periods, holidays=holidays)
        return self._output(calendar.pk)

    def destroy(self, request: Request, pk=None) -> Response:
        calendar = self.get_object()
        self._require_unrestricted()
        business_hours_delete(calendar=calendar)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CustomerTimelineView(APIView):
    """A customer's interactions, messages, notes and survey answers, newest first, in one query per page."""

    @extend_schema(
        summary="A customer's timeline",
        description="Entries the caller may not see (other teams' interactions and their messages) are left out. "
        "Follow `next` for older entries; its cursor is opaque.",
        parameters=[
            TimelineQuerySerializer,
            OpenApiParameter("id", int, OpenApiParameter.PATH, description="customer id"),
        ],
        responses={200: TimelineOutputSerializer},
    )
    def get(self, request: Request, pk: str) -> Response:
        # the route takes any segment, so a malformed id ("abc", "1.5") is this API's JSON 404
        customer = Customer.objects.only("pk").filter(pk=int(pk)).first() if pk.isdigit() and len(pk) < 19 else None
        if customer is None:
            raise exceptions.NotFound("No such customer.")
        query = TimelineQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        limit = query.validated_data["limit"]
        before = None
        if query.validated_data.get("cursor"):
            try:
                before = TimelineCursor.decode(query.validated_data["cursor"])
            except ValueError:
                raise exceptions.ValidationError({"cursor": ["Malformed cursor."]}) from None
        # One entry more than asked tells whether an older page exists, without a COUNT.
        entries = customer_timeline(
            customer=customer, viewer=viewer_from_request(request), before=before, limit=limit + 1
        )
        next_url = None
        if len(entries) > limit:
            entries = entries[:limit]
            next_url = replace_query_param(request.build_absolute_uri(), "cursor", entries[-1].cursor.encode())
        return Response(TimelineOutputSerializer({"next": next_url, "results": entries}).data)
