"""``/api/v1/inboxes/``: the center's connected addresses, numbers, sites and lines (admin scope).

Inboxes are center-wide configuration holding credentials: administrators and admin keys bound to no team create,
change and delete them. An admin key bound to a team reads the inboxes whose queue it sees (its teams' queues and
the shared ones), settings redacted like everyone's. Nobody reads a secret back: settings come redacted, and the
inbound URL (it holds the inbox's token) is in the create answer only.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from agents.access import Viewer, viewer_from_request
from config.api.permissions import ADMIN

from ..selectors import inbox_list
from ..services.inboxes import inbox_create, inbox_delete, inbox_update
from .filters import InboxFilter
from .serializers import InboxCreatedOutputSerializer, InboxInputSerializer, InboxOutputSerializer

IN_USE = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description='The inbox has carried interactions, messages or mail: {"detail": "… deactivate it instead …", '
    '"code": "inbox_in_use", "status": 409}',
)
VISIBILITY = (
    "Admin scope. Unrestricted callers see every inbox; an admin key bound to a team sees those whose queue it "
    "sees (its teams' and the shared queues). Settings are shown with their secrets redacted."
)
CENTER_WIDE = "Inboxes are center-wide configuration: only administrators and keys bound to no team change them."


@extend_schema_view(
    list=extend_schema(
        summary="List inboxes", description=VISIBILITY, responses={200: InboxOutputSerializer(many=True)}
    ),
    retrieve=extend_schema(summary="An inbox", description=VISIBILITY, responses={200: InboxOutputSerializer}),
    create=extend_schema(
        summary="Connect an inbox",
        description="Settings are checked by the adapter (errors name `settings.<key>`); the queue must serve the "
        "channel. The answer carries `inbound_url` — where the provider POSTs inbound messages, holding the "
        "inbox's secret token — this once only.",
        request=InboxInputSerializer,
        responses={201: InboxCreatedOutputSerializer},
    ),
    partial_update=extend_schema(
        summary="Change an inbox",
        description="`settings` merge into the stored ones: a secret sent back as shown (redacted) is kept, `null` "
        "removes a setting. `channel` and `adapter` cannot change. New settings put an inbox waiting for "
        "re-authorisation back to `active`.",
        request=InboxInputSerializer,
        responses={200: InboxOutputSerializer},
    ),
    destroy=extend_schema(
        summary="Delete an inbox that never carried anything",
        description="An inbox that has carried interactions, messages or mail is refused (409): deactivate it "
        'instead (`PATCH {"is_active": false}`), so that history keeps its inbox.',
        responses={204: None, 409: IN_USE},
    ),
)
class InboxViewSet(viewsets.GenericViewSet):
    serializer_class = InboxOutputSerializer
    required_scope = ADMIN
    lookup_value_regex = "[^/]+"  # a malformed id is this API's JSON 404
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    filterset_class = InboxFilter
    ordering = ["name", "id"]
    ordering_fields = ["name", "created_at", "id"]

    @property
    def viewer(self) -> Viewer:
        return viewer_from_request(self.request)

    def get_queryset(self):
        return inbox_list(viewer=self.viewer)

    def get_object(self):
        if not str(self.kwargs["pk"]).isdigit() or len(str(self.kwargs["pk"])) > 18:
            raise exceptions.NotFound()
        return super().get_object()

    def _require_unrestricted(self) -> None:
        if not self.viewer.unrestricted:
            raise exceptions.PermissionDenied(CENTER_WIDE)

    def _input(self, *, partial: bool = False) -> dict:
        serializer = InboxInputSerializer(data=self.request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(InboxOutputSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk=None) -> Response:
        return Response(InboxOutputSerializer(self.get_object()).data)

    def create(self, request: Request) -> Response:
        self._require_unrestricted()
        inbox = inbox_create(**self._input())
        return Response(InboxCreatedOutputSerializer(inbox).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk=None) -> Response:
        inbox = self.get_object()
        self._require_unrestricted()
        inbox = inbox_update(inbox=inbox, data=self._input(partial=True))
        return Response(InboxOutputSerializer(inbox).data)

    def destroy(self, request: Request, pk=None) -> Response:
        inbox = self.get_object()
        self._require_unrestricted()
        inbox_delete(inbox=inbox)
        return Response(status=status.HTTP_204_NO_CONTENT)
