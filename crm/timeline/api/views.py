"""A customer's timeline over the API (``read`` scope): what the caller may see of it, newest first."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from agents.access import viewer_from_request
from config.replicas import ReplicaReadsMixin
from contacts.models import Customer

from ..selectors import TimelineCursor, customer_timeline
from .serializers import TimelineOutputSerializer, TimelineQuerySerializer


class CustomerTimelineView(ReplicaReadsMixin, APIView):
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
            raise exceptions.NotFound(_("No such customer."))
        query = TimelineQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        limit = query.validated_data["limit"]
        before = None
        if query.validated_data.get("cursor"):
            try:
                before = TimelineCursor.decode(query.validated_data["cursor"])
            except ValueError:
                raise exceptions.ValidationError({"cursor": [_("Malformed cursor.")]}) from None
        # One entry more than asked tells whether an older page exists, without a COUNT.
        entries = customer_timeline(
            customer=customer, viewer=viewer_from_request(request), before=before, limit=limit + 1
        )
        next_url = None
        if len(entries) > limit:
            entries = entries[:limit]
            next_url = replace_query_param(request.build_absolute_uri(), "cursor", entries[-1].cursor.encode())
        return Response(TimelineOutputSerializer({"next": next_url, "results": entries}).data)
