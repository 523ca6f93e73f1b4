"""Interactions API: create (with Idempotency-Key), read, patch, lifecycle actions, messages.

Views stay thin: they parse input, narrow every query to the caller's view (objects outside it are
404), ask ``crm.interactions.permissions.interaction_action_refusal`` whether the caller may act on what
they see (403 with its reason otherwise: the same rule as the console's) and call one service. Services raise ``DomainError``
for illegal moves, which the exception handler turns into 409.
"""

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from agents.access import viewer_from_request
from agents.models import Agent
from config.api.exceptions import Unprocessable
from config.api.filters import StrictFilterBackend
from config.api.pagination import CursorPagination
from crm.access.services.idempotency import (
    IdempotencyKeyReused,
    idempotency_owner,
    idempotency_request_hash,
    idempotency_run,
)

from .. import services as lifecycle
from ..permissions import InteractionAction, interaction_action_refusal
from ..selectors import interaction_list, message_list
from ..services.messages import message_create
from .filters import InteractionFilterSet, InteractionOrderingFilter
from .serializers import (
    AcceptInputSerializer,
    AgentInputSerializer,
    EmptyInputSerializer,
    ErrorOutputSerializer,
    InteractionCreateInputSerializer,
    InteractionDetailOutputSerializer,
    InteractionOutputSerializer,
    InteractionUpdateInputSerializer,
    MessageCreateInputSerializer,
    MessageOutputSerializer,
    ResolveInputSerializer,
    TransferInputSerializer,
)

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=(
        "Up to 255 characters. A retry with the same key and body returns the first answer "
        "(header `Idempotent-Replayed: true`); the same key with another body is a 422; "
        "while the first request runs, a retry gets 409. Keys are per API key (or user) and kept "
        "for SWITCHBOARD_IDEMPOTENCY_TTL_HOURS."
    ),
)
ERRORS = {
    400: OpenApiResponse(description='Invalid input: field messages, e.g. {"queue": ["..."]}'),
    403: OpenApiResponse(
        ErrorOutputSerializer,
        description="The scope is missing, or you may see the interaction but not act on it: only its assigned "
        "agent (once they accepted it) or a supervisor of its team may",
    ),
    404: OpenApiResponse(ErrorOutputSerializer, description="No such interaction in your view"),
    409: OpenApiResponse(ErrorOutputSerializer, description="Not allowed in the interaction's current status"),
    413: OpenApiResponse(ErrorOutputSerializer, description="Request body over 1 MB"),
}


def _actor(request):
    """The person acting: the session's user; an API key acts as nobody (events record no actor)."""
    user = request.user
    return user if isinstance(user, get_user_model()) else None


def _require(request, interaction, action: InteractionAction) -> None:
    refusal = interaction_action_refusal(viewer=viewer_from_request(request), interaction=interaction, action=action)
    if refusal is not None:
        raise PermissionDenied(refusal)


class InteractionContextMixin:
    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["viewer"] = viewer_from_request(self.request)
        context["now"] = timezone.now()
        return context

    def input(self, serializer_class):
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def output(self, interaction, status_code=status.HTTP_200_OK):
        return Response(
            InteractionOutputSerializer(interaction, context=self.get_serializer_context()).data, status=status_code
        )


def _action_schema(summary: str, request=None):
    return extend_schema(
        summary=summary,
        request=request,
        responses={200: InteractionOutputSerializer, **ERRORS},
    )


@extend_schema_view(
    list=extend_schema(
        summary="List interactions you may see (newest first by default)",
        responses={
            200: InteractionOutputSerializer(many=True),
            400: ERRORS[400],
            404: OpenApiResponse(ErrorOutputSerializer, description="Invalid cursor"),
        },
    ),
    retrieve=extend_schema(
        summary="One interaction, with its surveys and their answers",
        responses={200: InteractionDetailOutputSerializer, 404: ERRORS[404]},
    ),
)
class InteractionViewSet(
    InteractionContextMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = InteractionOutputSerializer
    filter_backends = [StrictFilterBackend, InteractionOrderingFilter]
    filterset_class = InteractionFilterSet
    pagination_class = CursorPagination
    # any segment reaches the view, so a malformed id is the API's JSON 404, not Django's HTML page
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return interaction_list(viewer=viewer_from_request(self.request))

    def get_serializer_class(self):
        return InteractionDetailOutputSerializer if self.action == "retrieve" else InteractionOutputSerializer

    def filter_queryset(self, queryset):
        # query parameters filter the list only; a detail URL or an action is never narrowed by them
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    # --- create ---------------------------------------------------------------------------------

    @extend_schema(
        summary="Record an inbound interaction",
        description=(
            "Give exactly one of `customer` (id) and `customer_identity` (found or created by address). "
            "Without `queue`, the highest-priority active queue serving the channel is used."
        ),
        parameters=[IDEMPOTENCY_HEADER],
        request=InteractionCreateInputSerializer,
        responses={
            201: InteractionOutputSerializer,
            400: ERRORS[400],
            409: OpenApiResponse(
                ErrorOutputSerializer, description="A request with this Idempotency-Key is in progress"
            ),
            413: ERRORS[413],
            422: OpenApiResponse(ErrorOutputSerializer, description="Idempotency-Key reused with another body"),
        },
    )
    def create(self, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            status_code, body = self._create()
            return Response(body, status=status_code)
        viewer = viewer_from_request(request)
        try:
            result = idempotency_run(
                owner=idempotency_owner(api_key_id=viewer.api_key_id, user_id=request.user.pk),
                key=key,
                request_hash=idempotency_request_hash(payload=request.data),
                perform=self._create,
            )
        except IdempotencyKeyReused as exc:
            raise Unprocessable(detail=str(exc), code=exc.code) from None
        headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
        return Response(result.body, status=result.status, headers=headers)

    def _create(self) -> tuple[int, dict]:
        data = self.input(InteractionCreateInputSerializer)
        interaction = lifecycle.interaction_create_inbound(**data, actor=_actor(self.request))
        body = InteractionOutputSerializer(interaction, context=self.get_serializer_context()).data
        return status.HTTP_201_CREATED, dict(body)

    # --- update ---------------------------------------------------------------------------------

    @extend_schema(
        summary="Change subject, priority, tags or category",
        description="The status is not patchable: use the action endpoints.",
        request=InteractionUpdateInputSerializer,
        responses={200: InteractionOutputSerializer, 400: ERRORS[400], 404: ERRORS[404], 413: ERRORS[413]},
    )
    def partial_update(self, request, *args, **kwargs):
        interaction = self.get_object()
        _require(request, interaction, InteractionAction.UPDATE)
        data = self.input(InteractionUpdateInputSerializer)
        return self.output(lifecycle.interaction_update(interaction=interaction, actor=_actor(request), **data))

    # --- lifecycle actions ----------------------------------------------------------------------

    def _acted_on(self, action: InteractionAction):
        """The interaction of the URL if the caller may see it (else 404) and may do ``action`` on it (else 403)."""
        interaction = self.get_object()
        _require(self.request, interaction, action)
        return interaction

    def _simple(self, service, action: InteractionAction):
        interaction = self._acted_on(action)
        self.input(EmptyInputSerializer)
        return self.output(service(interaction=interaction, actor=_actor(self.request)))

    @_action_schema("Assign queued work to an agent (409 when it is no longer queued)", AgentInputSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        interaction = self._acted_on(InteractionAction.ASSIGN)
        agent = self.input(AgentInputSerializer)["agent"]
        return self.output(lifecycle.interaction_assign(interaction=interaction, agent=agent, actor=_actor(request)))

    @_action_schema("The assigned agent accepts the work", AcceptInputSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        interaction = self._acted_on(InteractionAction.ACCEPT)
        agent = self.input(AcceptInputSerializer).get("agent")
        viewer = viewer_from_request(request)
        if agent is not None and viewer.is_agent_only and agent.pk != viewer.agent_id:
            raise serializers.ValidationError({"agent": [_("You can only accept work as yourself.")]})
        if agent is None and viewer.agent_id is not None:
            agent = Agent.objects.get(pk=viewer.agent_id)
        if agent is None:
            raise serializers.ValidationError({"agent": [_("Name the accepting agent; this caller is not an agent.")]})
        return self.output(lifecycle.interaction_accept(interaction=interaction, agent=agent, actor=_actor(request)))

    @_action_schema(
        "Transfer to another queue or agent (409 when not assigned, active or on hold, or the agent has no room)",
        TransferInputSerializer,
    )
    @action(detail=True, methods=["post"])
    def transfer(self, request, pk=None):
        interaction = self._acted_on(InteractionAction.TRANSFER)
        data = self.input(TransferInputSerializer)
        return self.output(
            lifecycle.interaction_transfer(
                interaction=interaction,
                actor=_actor(request),
                to_queue=data.get("queue"),
                to_agent=data.get("agent"),
                note=data["note"],
            )
        )

    @_action_schema("Put active work on hold")
    @action(detail=True, methods=["post"])
    def hold(self, request, pk=None):
        return self._simple(lifecycle.interaction_hold, InteractionAction.HOLD)

    @_action_schema("Resume work on hold")
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._simple(lifecycle.interaction_resume, InteractionAction.RESUME)

    @_action_schema("Start wrap-up of active work")
    @action(detail=True, methods=["post"], url_path="wrap-up")
    def wrap_up(self, request, pk=None):
        return self._simple(lifecycle.interaction_wrap_up, InteractionAction.WRAP_UP)

    @_action_schema("Resolve with a disposition", ResolveInputSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        interaction = self._acted_on(InteractionAction.RESOLVE)
        data = self.input(ResolveInputSerializer)
        return self.output(lifecycle.interaction_resolve(interaction=interaction, actor=_actor(request), **data))

    @_action_schema("Close resolved work")
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._simple(lifecycle.interaction_close, InteractionAction.CLOSE)

    @_action_schema("Mark as abandoned (the customer left)")
    @action(detail=True, methods=["post"])
    def abandon(self, request, pk=None):
        return self._simple(lifecycle.interaction_abandon, InteractionAction.ABANDON)

    @_action_schema("Reopen resolved work: back to its queue")
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self._simple(lifecycle.interaction_reopen, InteractionAction.REOPEN)


class MessagePagination(CursorPagination):
    ordering = ("created_at", "id")


@extend_schema_view(
    list=extend_schema(
        summary="Messages of an interaction, oldest first",
        responses={
            200: MessageOutputSerializer(many=True),
            404: OpenApiResponse(
                ErrorOutputSerializer, description="No such interaction in your view, or invalid cursor"
            ),
        },
    ),
    create=extend_schema(
        summary="Add a message",
        description="`internal` notes need a signed-in user; API keys cannot write them.",
        request=MessageCreateInputSerializer,
        responses={201: MessageOutputSerializer, **ERRORS},
    ),
)
@extend_schema(parameters=[OpenApiParameter("interaction_pk", OpenApiTypes.INT, OpenApiParameter.PATH)])
class InteractionMessageViewSet(InteractionContextMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = MessageOutputSerializer
    pagination_class = MessagePagination
    filter_backends: list = []

    def get_interaction(self, *, fields: tuple[str, ...] = ()):
        """The interaction as the caller may see it (404 otherwise); ``fields``: only these columns are read."""
        visible = interaction_list(viewer=viewer_from_request(self.request))
        return get_object_or_404(visible.only(*fields) if fields else visible, pk=self.kwargs["interaction_pk"])

    def get_queryset(self):
        return message_list(interaction=self.get_interaction(fields=("id",))).select_related("delivery")

    def create(self, request, *args, **kwargs):
        # what the permission asks (``interaction_action_refusal``): ``message_create`` locks and reads the row itself
        interaction = self.get_interaction(fields=("id", "status", "agent_id"))
        _require(request, interaction, InteractionAction.MESSAGE)
        data = self.input(MessageCreateInputSerializer)
        message = message_create(interaction=interaction, author=_actor(request), **data)
        return Response(MessageOutputSerializer(message).data, status=status.HTTP_201_CREATED)
