"""Skills, teams and agents over REST. Views check input, call one service, and answer with an output shape.

Every queryset comes from a selector narrowed by ``agents.access``: an object the caller may not see is a 404.
Reads need the ``read`` scope; administrative writes ``admin``; an agent's status change only ``write``,
since agents (console sessions) and supervisors change presence themselves.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.pagination import CursorPagination
from config.api.permissions import ADMIN, READ, WRITE

from ..access import viewer_from_request
from ..breaks import break_approve, break_deny, break_end, break_request, break_start, break_type_get
from ..models import Break
from ..selectors import (
    agent_list,
    agent_status_log,
    break_list,
    skill_list,
    team_list,
    training_record_list,
    viewer_supervises,
)
from ..services import (
    agent_create,
    agent_set_status,
    agent_update,
    skill_create,
    skill_delete,
    skill_update,
    team_create,
    team_delete,
    team_update,
)
from .filters import AgentFilter, BreakFilter, SkillFilter, TeamFilter
from .serializers import (
    AgentCreateInputSerializer,
    AgentOutputSerializer,
    AgentStatusInputSerializer,
    AgentStatusLogOutputSerializer,
    AgentUpdateInputSerializer,
    BreakApproveInputSerializer,
    BreakCreateInputSerializer,
    BreakDenyInputSerializer,
    BreakOutputSerializer,
    SkillInputSerializer,
    SkillOutputSerializer,
    TeamInputSerializer,
    TeamOutputSerializer,
    TrainingRecordOutputSerializer,
)

ADMIN_WRITES = {"POST": ADMIN, "PATCH": ADMIN, "DELETE": ADMIN}


def _actor(request: Request):
    """The person behind the request, for audit rows; None for an API key (it is not a user)."""
    user = request.user
    return user if getattr(user, "pk", None) is not None else None


class _ResourceViewSet(viewsets.GenericViewSet):
    # Any malformed id ("1.5", "abc") reaches the view and is this API's JSON 404, not Django's HTML page.
    lookup_value_regex = "[^/]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]


@extend_schema_view(
    list=extend_schema(summary="List skills"),
    retrieve=extend_schema(summary="Get a skill"),
    create=extend_schema(
        summary="Create a skill", request=SkillInputSerializer, responses={201: SkillOutputSerializer}
    ),
    partial_update=extend_schema(summary="Change a skill", request=SkillInputSerializer),
    destroy=extend_schema(
        summary="Delete a skill",
        responses={204: None, 409: OpenApiResponse(description="queues or agents still use the skill")},
    ),
)
class SkillViewSet(_ResourceViewSet):
    """The center's skills. Anyone may read them; creating, changing and deleting needs the ``admin`` scope."""

    serializer_class = SkillOutputSerializer
    filterset_class = SkillFilter
    ordering = ("name", "id")
    ordering_fields = ("name", "created_at", "id")
    required_scope = ADMIN_WRITES

    def get_queryset(self):
        return skill_list()

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(SkillOutputSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(SkillOutputSerializer(self.get_object()).data)

    def create(self, request):
        data = SkillInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        skill = skill_create(**data.validated_data)
        return Response(SkillOutputSerializer(skill).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        skill = self.get_object()
        data = SkillInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        skill = skill_update(skill=skill, **data.validated_data)
        return Response(SkillOutputSerializer(skill).data)

    def destroy(self, request, pk=None):
        skill_delete(skill=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(summary="List teams"),
    retrieve=extend_schema(summary="Get a team"),
    create=extend_schema(summary="Create a team", request=TeamInputSerializer, responses={201: TeamOutputSerializer}),
    partial_update=extend_schema(summary="Change a team", request=TeamInputSerializer),
    destroy=extend_schema(
        summary="Delete a team",
        responses={204: None, 409: OpenApiResponse(description="the team still has agents, queues or API keys")},
    ),
)
class TeamViewSet(_ResourceViewSet):
    """Teams and their supervisors (user ids). Reads show the caller's teams; writes need the ``admin`` scope."""

    serializer_class = TeamOutputSerializer
    filterset_class = TeamFilter
    ordering = ("name", "id")
    ordering_fields = ("name", "created_at", "id")
    required_scope = ADMIN_WRITES

    def get_queryset(self):
        return team_list(viewer=viewer_from_request(self.request))

    def _output(self, team_id: int) -> dict:
        return TeamOutputSerializer(self.get_queryset().get(pk=team_id)).data

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(TeamOutputSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(TeamOutputSerializer(self.get_object()).data)

    def create(self, request):
        if not viewer_from_request(request).unrestricted:
            # A team-bound key manages its own team; a new team would be outside what it may see.
            raise PermissionDenied("A key bound to a team cannot create teams.")
        data = TeamInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        team = team_create(**data.validated_data)
        return Response(self._output(team.pk), status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        team = self.get_object()
        data = TeamInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        team_update(team=team, **data.validated_data)
        return Response(self._output(team.pk))

    def destroy(self, request, pk=None):
        team_delete(team=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class StatusLogPagination(CursorPagination):
    ordering = ("-changed_at", "-id")


@extend_schema_view(
    list=extend_schema(summary="List agents"),
    retrieve=extend_schema(summary="Get an agent"),
    create=extend_schema(
        summary="Create an agent and their user",
        description="The user gets no password: they set one through the password-reset flow.",
        request=AgentCreateInputSerializer,
        responses={201: AgentOutputSerializer},
    ),
    partial_update=extend_schema(
        summary="Change an agent",
        description="`skills` replaces the agent's skills. Status changes go through `POST /agents/{id}/status`.",
        request=AgentUpdateInputSerializer,
    ),
)
class AgentViewSet(_ResourceViewSet):
    """Agents: profile, capacity, skills and presence status."""

    serializer_class = AgentOutputSerializer
    filterset_class = AgentFilter
    ordering = ("name", "id")
    ordering_fields = ("name", "created_at", "id")
    http_method_names = ["get", "post", "patch", "head", "options"]

    @property
    def required_scope(self) -> str:
        if self.action == "set_status":
            return WRITE
        return READ if self.request.method in SAFE_METHODS else ADMIN

    def get_queryset(self):
        agents = agent_list(viewer=viewer_from_request(self.request))
        if self.action in ("status_log", "training"):
            return agents.prefetch_related(None)  # only the agent's id is needed, not its skills
        return agents

    def _output(self, agent_id: int) -> dict:
        return AgentOutputSerializer(self.get_queryset().get(pk=agent_id)).data

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(AgentOutputSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(AgentOutputSerializer(self.get_object()).data)

    def create(self, request):
        data = AgentCreateInputSerializer(data=request.data, context={"viewer": viewer_from_request(request)})
        data.is_valid(raise_exception=True)
        agent = agent_create(**data.validated_data, actor=_actor(request))
        return Response(self._output(agent.pk), status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        agent = self.get_object()
        data = AgentUpdateInputSerializer(data=request.data, context={"viewer": viewer_from_request(request)})
        data.is_valid(raise_exception=True)
        agent_update(agent=agent, **data.validated_data, actor=_actor(request))
        return Response(self._output(agent.pk))

    @extend_schema(
        summary="Change an agent's status",
        request=AgentStatusInputSerializer,
        responses={
            200: AgentOutputSerializer,
            409: OpenApiResponse(description="the change is not allowed from the current status"),
        },
    )
    @action(detail=True, methods=["post"], url_path="status", filter_backends=[])
    def set_status(self, request, pk=None):
        agent = self.get_object()
        data = AgentStatusInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        agent_set_status(agent=agent, actor=_actor(request), **data.validated_data)
        return Response(self._output(agent.pk))

    @extend_schema(
        summary="An agent's status changes, newest first", responses=AgentStatusLogOutputSerializer(many=True)
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="status-log",
        filter_backends=[],
        pagination_class=StatusLogPagination,
    )
    def status_log(self, request, pk=None):
        page = self.paginate_queryset(agent_status_log(agent=self.get_object()))
        return self.get_paginated_response(AgentStatusLogOutputSerializer(page, many=True).data)

    @extend_schema(
        summary="An agent's training records, newest first",
        description="Agents see only their own; supervisors their teams' agents.",
        responses=TrainingRecordOutputSerializer(many=True),
    )
    @action(detail=True, methods=["get"], url_path="training", filter_backends=[], pagination_class=None)
    def training(self, request, pk=None):
        records = training_record_list(agent=self.get_object())
        return Response(TrainingRecordOutputSerializer(records, many=True).data)

    @extend_schema(summary="The agent profile of the logged-in user", responses=AgentOutputSerializer)
    @action(detail=False, methods=["get"], url_path="me", filter_backends=[], pagination_class=None)
    def me(self, request):
        viewer = viewer_from_request(request)
        if viewer.api_key_id is not None or viewer.agent_id is None:
            raise NotFound("You have no agent profile.")
        return Response(AgentOutputSerializer(get_object_or_404(self.get_queryset(), pk=viewer.agent_id)).data)


BREAK_CONFLICT = OpenApiResponse(
    description="not allowed in the break's current state, a break already pending or running, or the team's "
    "share of agents on break reached (code break_cap_reached)"
)


@extend_schema_view(
    list=extend_schema(summary="List breaks", description="Agents see their own; supervisors their teams'."),
    retrieve=extend_schema(summary="Get a break"),
    create=extend_schema(
        summary="Request a break",
        request=BreakCreateInputSerializer,
        responses={201: BreakOutputSerializer, 409: BREAK_CONFLICT},
    ),
)
class BreakViewSet(_ResourceViewSet):
    """Breaks: an agent requests and takes their own; the agent's supervisors approve, deny, start and end them.

    Starting puts the agent on break (routing sends nothing new; current work finishes); ending makes them
    available again. Every step is logged with who did it.
    """

    serializer_class = BreakOutputSerializer
    filterset_class = BreakFilter
    ordering = ("-requested_at", "-id")
    ordering_fields = ("requested_at", "id")
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        return break_list(viewer=viewer_from_request(self.request))

    def _output(self, brk: Break) -> dict:
        return BreakOutputSerializer(self.get_queryset().get(pk=brk.pk)).data

    def _supervised(self, brk: Break, verb: str) -> None:
        if not viewer_supervises(viewer=viewer_from_request(self.request), agent=brk.agent):
            raise PermissionDenied(f"Only the agent's supervisors may {verb} a break.")

    def _own_or_supervised(self, brk: Break, verb: str) -> None:
        viewer = viewer_from_request(self.request)
        if brk.agent_id != viewer.agent_id:
            self._supervised(brk, verb)

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(BreakOutputSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(BreakOutputSerializer(self.get_object()).data)

    def create(self, request):
        data = BreakCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        viewer = viewer_from_request(request)
        agent_id = values.pop("agent", None) or viewer.agent_id
        if agent_id is None:
            raise ValidationError({"agent": ["Give the agent: you have no agent profile."]})
        agent = agent_list(viewer=viewer).prefetch_related(None).filter(pk=agent_id).first()
        if agent is None:  # an agent the caller may not see is as unknown as one that does not exist
            raise ValidationError({"agent": [f"Unknown agent id {agent_id}."]})
        on_behalf = agent.pk != viewer.agent_id
        if on_behalf and not viewer_supervises(viewer=viewer, agent=agent):
            raise PermissionDenied("Only the agent's supervisors may plan a break for them.")
        brk = break_request(
            agent=agent,
            break_type=break_type_get(code=values.pop("break_type")),
            actor=_actor(request),
            approved=on_behalf,
            **values,
        )
        return Response(self._output(brk), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Approve a requested break",
        request=BreakApproveInputSerializer,
        responses={200: BreakOutputSerializer, 409: BREAK_CONFLICT},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def approve(self, request, pk=None):
        brk = self.get_object()
        self._supervised(brk, "approve")
        data = BreakApproveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        break_approve(brk=brk, actor=_actor(request), **data.validated_data)
        return Response(self._output(brk))

    @extend_schema(
        summary="Deny a break that has not started",
        request=BreakDenyInputSerializer,
        responses={200: BreakOutputSerializer, 409: BREAK_CONFLICT},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def deny(self, request, pk=None):
        brk = self.get_object()
        self._supervised(brk, "deny")
        data = BreakDenyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        break_deny(brk=brk, actor=_actor(request), **data.validated_data)
        return Response(self._output(brk))

    @extend_schema(
        summary="Start an approved break now", request=None, responses={200: BreakOutputSerializer, 409: BREAK_CONFLICT}
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def start(self, request, pk=None):
        brk = self.get_object()
        self._own_or_supervised(brk, "start")
        break_start(brk=brk, actor=_actor(request))
        return Response(self._output(brk))

    @extend_schema(
        summary="End a running break", request=None, responses={200: BreakOutputSerializer, 409: BREAK_CONFLICT}
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def end(self, request, pk=None):
        brk = self.get_object()
        self._own_or_supervised(brk, "end")
        break_end(brk=brk, actor=_actor(request))
        return Response(self._output(brk))
