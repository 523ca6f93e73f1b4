"""``POST /api/v1/interactions/{interaction_pk}/messages/{message_pk}/retry``: send a failed reply again.

Whoever may write on the interaction may retry its replies (``interaction_action_refusal`` with the ``message``
action: the rule of the console and of ``POST .../messages/``); an interaction outside the caller's view is 404.
"""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.access import viewer_from_request
from config.api.serializers import ErrorSerializer, InputSerializer
from crm.interactions.models import Message
from crm.interactions.permissions import InteractionAction, interaction_action_refusal
from crm.interactions.selectors import interaction_list

from ..services.delivery import delivery_retry


class RetryInputSerializer(InputSerializer):
    """No parameters; unknown ones are refused."""


class MessageRetryOutputSerializer(serializers.Serializer):
    message = serializers.IntegerField()
    interaction = serializers.IntegerField()
    delivery_status = serializers.CharField(help_text="pending again: the worker sends it shortly")
    attempts = serializers.IntegerField()
    error = serializers.CharField(allow_blank=True)


class MessageRetryView(APIView):
    @extend_schema(
        summary="Send a reply whose delivery failed again",
        parameters=[
            OpenApiParameter("interaction_pk", OpenApiTypes.INT, OpenApiParameter.PATH),
            OpenApiParameter("message_pk", OpenApiTypes.INT, OpenApiParameter.PATH),
        ],
        request=RetryInputSerializer,
        responses={
            200: MessageRetryOutputSerializer,
            403: OpenApiResponse(ErrorSerializer, description="You may see the interaction but not write on it"),
            404: OpenApiResponse(ErrorSerializer, description="No such interaction or message in your view"),
            409: OpenApiResponse(ErrorSerializer, description="The message has no failed delivery"),
        },
    )
    def post(self, request: Request, interaction_pk: str, message_pk: str) -> Response:
        viewer = viewer_from_request(request)
        if not (interaction_pk.isdigit() and message_pk.isdigit()):
            raise NotFound(_("No such message."))
        interaction = interaction_list(viewer=viewer).filter(pk=int(interaction_pk)).first()
        message = (
            Message.objects.filter(pk=int(message_pk), interaction_id=interaction.pk).first() if interaction else None
        )
        if message is None:
            raise NotFound(_("No such message."))
        refusal = interaction_action_refusal(viewer=viewer, interaction=interaction, action=InteractionAction.MESSAGE)
        if refusal is not None:
            raise PermissionDenied(refusal)
        RetryInputSerializer(data=request.data).is_valid(raise_exception=True)
        delivery = delivery_retry(message=message)
        body = {
            "message": message.pk,
            "interaction": interaction.pk,
            "delivery_status": delivery.status,
            "attempts": delivery.attempts,
            "error": delivery.error,
        }
        return Response(body)
