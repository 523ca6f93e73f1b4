"""Canned responses: ready-made replies the agent console offers while answering (read only here).

They are written in the admin; the API lists what the caller may insert (``read`` scope).
"""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from agents.access import viewer_from_request
from config.api.pagination import CursorPagination

from ...selectors.canned_responses import canned_response_list
from .serializers import CannedResponseOutputSerializer, CannedResponseQuerySerializer


class ByTitlePagination(CursorPagination):
    """Alphabetical, as the console lists them; titles are nearly unique, DRF's cursor copes with repeats."""

    ordering = ("title", "id")


class CannedResponseViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = CannedResponseOutputSerializer
    filter_backends = []  # the query serializer parses the parameters, the selector applies them
    pagination_class = ByTitlePagination

    @extend_schema(
        summary="List canned responses",
        description="Agents, supervisors and team-bound keys see the active responses of the queues they see "
        "and the global ones (no queue); unrestricted callers see all. With `queue`, that queue's responses "
        "and the global ones: what an agent working there may insert.",
        parameters=[CannedResponseQuerySerializer],
    )
    def list(self, request: Request) -> Response:
        query = CannedResponseQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        queryset = canned_response_list(
            viewer=viewer_from_request(request),
            queue_id=query.validated_data.get("queue"),
            search=query.validated_data.get("search", ""),
            is_active=query.validated_data.get("is_active"),
        )
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
