"""Quality over REST, read-only: reviews (agents read their own completed reviews, supervisors their teams') and
canned responses, the ready-made replies the agent console offers while answering.

Both are written in the admin; the API lists what the caller may see (``read`` scope).
"""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from agents.access import viewer_from_request
from config.api.pagination import CursorPagination

from ..selectors import canned_response_list, review_list
from .filters import ReviewFilter
from .serializers import CannedResponseOutputSerializer, CannedResponseQuerySerializer, ReviewOutputSerializer


@extend_schema_view(
    list=extend_schema(summary="List quality reviews", description="Agents see only their own completed reviews."),
    retrieve=extend_schema(summary="Get a quality review"),
)
class ReviewViewSet(viewsets.GenericViewSet):
    serializer_class = ReviewOutputSerializer
    filterset_class = ReviewFilter
    ordering = ("-created_at", "-id")
    ordering_fields = ("created_at", "id")
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return review_list(viewer=viewer_from_request(self.request))

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(ReviewOutputSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(ReviewOutputSerializer(self.get_object()).data)


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
        # a plain dict: an empty typed parameter (`?queue=`) is a 400 here as on every list, not "no filter"
        query = CannedResponseQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        queryset = canned_response_list(
            viewer=viewer_from_request(request),
            queue_id=query.validated_data.get("queue"),
            search=query.validated_data.get("search", ""),
            is_active=query.validated_data.get("is_active"),
        )
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
