"""Skills, teams and agents over REST. Views check input, call one service, and answer with an output shape.

Every queryset comes from a selector narrowed by ``agents.access``: an object the caller may not see is a 404.
Reads need the ``read`` scope; administrative writes ``admin``; an agent's status change only ``write``,
since agents (console sessions) and supervisors change presence themselves.
"""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.pagination import CursorPagination
from config.api.permissions import ADMIN, READ, WRITE

from ..access import viewer_from_request
from ..selectors import (
    agent_list,
    agent_status_log,
    skill_list,
    team_list,
    training_record_list,
)
from ..services import agent_create, agent_set_status, agent_update
from ..teams import skill_create, skill_delete, skill_update, team_create, team_delete, team_update
from .filters import AgentFilter, SkillFilter, TeamFilter
from .serializers import (
    AgentCreateInputSerializer,
    AgentOutputSerializer,
    AgentStatusInputSerializer,
    AgentStatusLogOutputSerializer,
    AgentUpdateInputSerializer,
    SkillInputSerializer,
    SkillOutputSerializer,
    TeamInputSerializer,
    TeamOutputSerializer,
    TrainingRecordOutputSerializer,
)

ADMIN_WRITES = {"POST": ADMIN, "PATCH": ADMIN, "DELETE": ADMIN}


def actor_of(request: Request):
    """The person behind the request, for audit rows; None for an API key (it is not a user)."""
    user = request.user
    return user if getattr(user, "pk", None) is not None else None


class ResourceViewSet(viewsets.GenericViewSet):
    # Any malformed id ("1.5", "abc") reaches the view and is this API's JSON 404, not Django's HTML page.
    lookup_value_regex = "[^/]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def require_unrestricted(self, message: str) -> None:
        """Center-wide changes (skills, teams, who supervises) are for administrators and keys bound to no team."""
        if not viewer_from_request(self.request).unrestricted:
            raise PermissionDenied(message)


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
class SkillViewSet(ResourceViewSet):
    """The center's skills. Anyone may read them; creating, changing and deleting needs the ``admin`` scope and an
    unrestricted caller: the skills are the whole center's vocabulary, not one team's."""

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

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method not in SAFE_METHODS:
            self.require_unrestricted("Skills are shared by all teams; a key bound to a team cannot change them.")

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
class TeamViewSet(ResourceViewSet):
    """Teams and their supervisors (user ids). Reads show the caller's teams; writes need the ``admin`` scope.

    Creating and deleting teams and changing who supervises them are an unrestricted caller's (an administrator's
    or a key bound to no team): a supervisor list grants its users the team's data, so nobody bound to a team may
    hand it out. A key bound to a team may rename and describe its own team.
    """

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
        # a new team would be outside what a team-bound key may see
        self.require_unrestricted("A key bound to a team cannot create teams.")
        data = TeamInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        team = team_create(**data.validated_data)
        return Response(self._output(team.pk), status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        team = self.get_object()
        if "supervisors" in request.data:
            self.require_unrestricted("Only an administrator may change who supervises a team.")
        data = TeamInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        team_update(team=team, **data.validated_data)
        return Response(self._output(team.pk))

    def destroy(self, request, pk=None):
        team = self.get_object()
        self.require_unrestricted("A key bound to a team cannot delete teams.")
        team_delete(team=team)
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
        description="`skills` replaces the agent's skills. Status changes go through `POST /agents/{id}/status`. "
        "Changing your own `email` needs `current_password`; the old address is told of any change of address.",
        request=AgentUpdateInputSerializer,
    ),
)
class AgentViewSet(ResourceViewSet):
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
        agent = agent_create(**data.validated_data, actor=actor_of(request))
        return Response(self._output(agent.pk), status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        agent = self.get_object()
        data = AgentUpdateInputSerializer(
            data=request.data,
            context={"viewer": viewer_from_request(request), "agent": agent, "user": request.user},
        )
        data.is_valid(raise_exception=True)
        agent_update(agent=agent, **data.validated_data, actor=actor_of(request))
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
        agent_set_status(agent=agent, actor=actor_of(request), **data.validated_data)
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
            raise NotFound(_("You have no agent profile."))
        return Response(AgentOutputSerializer(get_object_or_404(self.get_queryset(), pk=viewer.agent_id)).data)
