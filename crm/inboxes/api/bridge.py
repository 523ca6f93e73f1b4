"""``POST /api/v1/inboxes/{id}/messages/``: an integrator's bridge hands over a customer's message.

Write scope; the caller is unrestricted (an administrator, a key without a team) or an API key of the team whose
queue the inbox feeds. Anyone else is told the inbox does not exist (404), as for work outside their view.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.access import Viewer, viewer_from_request
from config.api.serializers import ErrorSerializer, InputSerializer, StrictCharField

from ..models import Inbox
from ..services.bridge import bridge_message_receive


class BridgeCustomerInputSerializer(InputSerializer):
    address = StrictCharField(max_length=254, help_text="the customer's address on the inbox's channel")
    name = StrictCharField(max_length=200, required=False, allow_blank=True, default="")


class BridgeAttachmentInputSerializer(InputSerializer):
    """A file the bridge keeps: described here, fetched by nobody."""

    name = StrictCharField(max_length=255)
    content_type = StrictCharField(max_length=100, required=False, allow_blank=True, default="")
    size = serializers.IntegerField(min_value=0, max_value=2**53, required=False)
    url = serializers.URLField(max_length=2000, required=False, allow_blank=True)


class BridgeMessageInputSerializer(InputSerializer):
    customer = BridgeCustomerInputSerializer()
    body = StrictCharField(trim_whitespace=False)
    external_id = StrictCharField(
        max_length=200, help_text="your id of this message: a repeated POST with the same id imports it once"
    )
    subject = StrictCharField(max_length=300, required=False, allow_blank=True, default="")
    interaction = serializers.IntegerField(
        required=False, min_value=1, help_text="the customer's interaction this message continues"
    )
    thread_key = StrictCharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="the external_id of an earlier message (theirs or ours) this one answers",
    )
    attachments = serializers.ListField(
        child=BridgeAttachmentInputSerializer(), max_length=20, required=False, default=list
    )


class BridgeMessageOutputSerializer(serializers.Serializer):
    interaction = serializers.IntegerField()
    message = serializers.IntegerField()
    created = serializers.BooleanField(help_text="false: this external_id was imported before (nothing new)")
    new_interaction = serializers.BooleanField(help_text="the message started a new interaction")


def _may_feed(viewer: Viewer, inbox: Inbox) -> bool:
    if viewer.unrestricted:
        return True
    return viewer.api_key_id is not None and inbox.queue.team_id in viewer.team_ids


class BridgeMessageView(APIView):
    @extend_schema(
        summary="Hand over a customer's message arriving through a bridged channel",
        description="Threads onto the customer's interaction named by `interaction`, or holding the message whose "
        "`external_id` is `thread_key`; otherwise starts a new interaction in the inbox's queue. "
        "Idempotent on `external_id` (200 with the first import's ids).",
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        request=BridgeMessageInputSerializer,
        responses={
            201: BridgeMessageOutputSerializer,
            200: BridgeMessageOutputSerializer,
            400: OpenApiResponse(description='Invalid input: field messages, e.g. {"customer": ["..."]}'),
            403: OpenApiResponse(ErrorSerializer, description="The key lacks the write scope"),
            404: OpenApiResponse(ErrorSerializer, description="No such inbox in your view"),
            409: OpenApiResponse(ErrorSerializer, description="The inbox is deactivated"),
        },
    )
    def post(self, request: Request, id: str) -> Response:
        inbox = Inbox.objects.select_related("queue").filter(pk=int(id) if id.isdigit() else 0).first()
        if inbox is None or not _may_feed(viewer_from_request(request), inbox):
            raise NotFound("No such inbox.")
        serializer = BridgeMessageInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = bridge_message_receive(
            inbox=inbox,
            address=data["customer"]["address"],
            name=data["customer"]["name"],
            body=data["body"],
            external_id=data["external_id"],
            subject=data["subject"],
            interaction_id=data.get("interaction"),
            thread_key=data["thread_key"],
            attachments=[dict(item) for item in data["attachments"]],
        )
        body = {
            "interaction": result.interaction.pk,
            "message": result.message.pk,
            "created": result.created,
            "new_interaction": result.new_interaction,
        }
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)
