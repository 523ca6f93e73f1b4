"""Quality reviews over REST, read-only: agents read their own completed reviews, supervisors their teams'."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.response import Response

from agents.access import viewer_from_request

from ...selectors.reviews import review_list
from .filters import ReviewFilter
from .serializers import ReviewOutputSerializer


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
