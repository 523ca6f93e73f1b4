"""What the set-up resources' APIs share: the queues here, SLA policies and calendars (``crm.sla.api``).

Reads need the ``read`` scope; writes need ``admin``. Writes go through the concern's services and answer with
the object re-read through its list selector, so a write answers exactly what a read would.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from agents.access import Viewer, viewer_from_request
from config.api.permissions import ADMIN

# The schema class (config.api.schema) documents the errors every operation can give (400, 401, 403, 404,
# 413, 415); only what is particular to these resources is said here.
CONFLICT = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description=(
        'A name already taken, as field messages ({"name": ["…"]}), or a deletion refused because '
        'the object is in use, as {"detail": "…", "code": "…", "status": 409}'
    ),
)


def setup_doc(summary: str, ok: int, body, *, conflict: bool = False, **kwargs):
    """``extend_schema`` with the success response, and this resource's 409 where a write can meet one."""
    responses = {ok: body, 409: CONFLICT} if conflict else {ok: body}
    return extend_schema(summary=summary, responses=responses, **kwargs)


ADMIN_WRITES = {"POST": ADMIN, "PUT": ADMIN, "PATCH": ADMIN, "DELETE": ADMIN}


class SetupViewSet(viewsets.GenericViewSet):
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
