"""Breaks over REST: an agent requests and takes their own; the agent's supervisors approve, deny, start and end them.

Every queryset comes from a selector narrowed by ``agents.access``: a break the caller may not see is a 404.
"""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from ..access import viewer_from_request
from ..breaks import break_approve, break_deny, break_end, break_request, break_start, break_type_get
from ..models import Break
from ..selectors import agent_list, break_list, viewer_supervises
from .filters import BreakFilter
from .serializers import (
    BreakApproveInputSerializer,
    BreakCreateInputSerializer,
    BreakDenyInputSerializer,
    BreakOutputSerializer,
)
from .views import ResourceViewSet, actor_of

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
class BreakViewSet(ResourceViewSet):
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
            raise PermissionDenied(_("Only the agent's supervisors may %(verb)s a break.") % {"verb": verb})

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
            raise ValidationError({"agent": [_("Give the agent: you have no agent profile.")]})
        agent = agent_list(viewer=viewer).prefetch_related(None).filter(pk=agent_id).first()
        if agent is None:  # an agent the caller may not see is as unknown as one that does not exist
            raise ValidationError({"agent": [_("Unknown agent id %(agent_id)s.") % {"agent_id": agent_id}]})
        on_behalf = agent.pk != viewer.agent_id
        if on_behalf and not viewer_supervises(viewer=viewer, agent=agent):
            raise PermissionDenied(_("Only the agent's supervisors may plan a break for them."))
        brk = break_request(
            agent=agent,
            break_type=break_type_get(code=values.pop("break_type")),
            actor=actor_of(request),
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
        break_approve(brk=brk, actor=actor_of(request), **data.validated_data)
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
        break_deny(brk=brk, actor=actor_of(request), **data.validated_data)
        return Response(self._output(brk))

    @extend_schema(
        summary="Start an approved break now", request=None, responses={200: BreakOutputSerializer, 409: BREAK_CONFLICT}
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def start(self, request, pk=None):
        brk = self.get_object()
        self._own_or_supervised(brk, "start")
        break_start(brk=brk, actor=actor_of(request))
        return Response(self._output(brk))

    @extend_schema(
        summary="End a running break", request=None, responses={200: BreakOutputSerializer, 409: BREAK_CONFLICT}
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def end(self, request, pk=None):
        brk = self.get_object()
        self._own_or_supervised(brk, "end")
        break_end(brk=brk, actor=actor_of(request))
        return Response(self._output(brk))
