"""``POST /api/v1/calls/`` and ``POST /api/v1/calls/{id}/events/``: the telephony platform's side of a call.

Write scope. The caller is unrestricted (an administrator, a key without a team) or an API key of the team whose
queue the voice inbox feeds; anyone else is told the inbox or call does not exist (404). A queue or agent named in
an event must be in the caller's view too.
"""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.access import Viewer, viewer_from_request
from agents.models import Agent
from config.api.serializers import ErrorSerializer, InputSerializer, OutputModelSerializer, StrictCharField
from crm.inboxes.models import Inbox
from crm.routing.models import Queue

from ..models import Call
from ..services import EVENTS, call_event, call_start


class CallInputSerializer(InputSerializer):
    inbox = serializers.IntegerField(min_value=1, help_text="the voice inbox (the number called)")
    call_id = StrictCharField(max_length=100, help_text="the platform's call id: a repeated POST gets the same call")
    caller = StrictCharField(max_length=32, help_text="the caller's number, international format")


class CallEventInputSerializer(InputSerializer):
    type = serializers.ChoiceField(choices=EVENTS)
    menu = StrictCharField(max_length=60, required=False, help_text="ivr: the menu's name")
    choice = StrictCharField(max_length=60, required=False, allow_blank=True, help_text="ivr: what the caller chose")
    queue = serializers.IntegerField(min_value=1, required=False, help_text="queued, transferred: the queue")
    agent = serializers.IntegerField(min_value=1, required=False, help_text="answered, transferred: the agent")
    url = serializers.URLField(max_length=500, required=False, help_text="recording: its URL")


class CallOutputSerializer(OutputModelSerializer):
    interaction_status = serializers.CharField(source="interaction.status")

    class Meta:
        model = Call
        fields = ["id", "interaction", "interaction_status", "inbox", "provider_call_id", "caller", "ivr_path",
                  "outcome", "abandoned_at_step", "recording_url", "started_at", "answered_at", "ended_at"]  # fmt: skip


def _in_view(viewer: Viewer, team_id: int | None) -> bool:
    return viewer.unrestricted or (viewer.api_key_id is not None and team_id in viewer.team_ids)


def _check_named(viewer: Viewer, data: dict) -> None:
    if viewer.unrestricted:
        return
    if "queue" in data and not Queue.objects.filter(pk=data["queue"], team_id__in=viewer.team_ids).exists():
        raise ValidationError({"queue": [_("No such queue in your view.")]})
    if "agent" in data and not Agent.objects.filter(pk=data["agent"], team_id__in=viewer.team_ids).exists():
        raise ValidationError({"agent": [_("No such agent in your view.")]})


class CallListView(APIView):
    @extend_schema(
        summary="A call reaches a voice inbox",
        description="Records the call as an interaction that waits in the IVR (outside any queue) until a `queued` "
        "event. Idempotent on (`inbox`, `call_id`): a repeat answers 200 with the same call.",
        request=CallInputSerializer,
        responses={
            201: CallOutputSerializer,
            200: CallOutputSerializer,
            400: OpenApiResponse(description="Invalid input: field messages"),
            403: OpenApiResponse(ErrorSerializer, description="The key lacks the write scope"),
            404: OpenApiResponse(ErrorSerializer, description="No such inbox in your view"),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = CallInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        inbox = Inbox.objects.select_related("queue").filter(pk=data["inbox"]).first()
        if inbox is None or not _in_view(viewer_from_request(request), inbox.queue.team_id):
            raise NotFound(_("No such inbox."))
        call, created = call_start(inbox=inbox, call_id=data["call_id"], caller=data["caller"])
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(CallOutputSerializer(call).data, status=code)


class CallEventView(APIView):
    @extend_schema(
        summary="Something happened on a call",
        description="`ringing`, `ivr` {menu, choice}, `queued` {queue?}, `answered` {agent?}, `hold`, `resume`, "
        "`transferred` {queue | agent}, `ended`, `recording` {url}. An event the call's state does not allow is a "
        "409 saying why.",
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        request=CallEventInputSerializer,
        responses={
            200: CallOutputSerializer,
            400: OpenApiResponse(description="Invalid input: field messages"),
            403: OpenApiResponse(ErrorSerializer, description="The key lacks the write scope"),
            404: OpenApiResponse(ErrorSerializer, description="No such call in your view"),
            409: OpenApiResponse(ErrorSerializer, description="The event does not fit the call's state"),
        },
    )
    def post(self, request: Request, id: str) -> Response:
        viewer = viewer_from_request(request)
        call = Call.objects.select_related("inbox__queue").filter(pk=int(id) if id.isdigit() else 0).first()
        if call is None or not _in_view(viewer, call.inbox.queue.team_id):
            raise NotFound(_("No such call."))
        serializer = CallEventInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        _check_named(viewer, data)
        call = call_event(call=call, event=data.pop("type"), data=data)
        return Response(CallOutputSerializer(call).data)
