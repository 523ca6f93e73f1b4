"""Webhook subscriptions (admin scope, unrestricted callers: they see every event of the center) and the public
survey answer endpoint (the signed token is the credential; throttled per client address)."""

from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, status, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.access import viewer_from_request
from config.api.filters import StrictBooleanFilter
from config.api.permissions import ADMIN
from config.api.throttling import ScopedRateThrottle

from ...models import Webhook
from ...services.surveys import SurveyTokenExpired, SurveyTokenInvalid, survey_answer
from ...services.webhooks import webhook_create, webhook_delete, webhook_update
from .serializers import (
    SurveyAnswerInputSerializer,
    SurveyAnswerOutputSerializer,
    WebhookCreatedOutputSerializer,
    WebhookInputSerializer,
    WebhookOutputSerializer,
)


class WebhookFilter(filters.FilterSet):
    is_active = StrictBooleanFilter()

    class Meta:
        model = Webhook
        fields = ["is_active"]


@extend_schema_view(
    list=extend_schema(summary="List webhook subscriptions", responses={200: WebhookOutputSerializer(many=True)}),
    retrieve=extend_schema(summary="A webhook subscription", responses={200: WebhookOutputSerializer}),
    create=extend_schema(
        summary="Subscribe a URL to events",
        description="Each delivery is a signed POST; see the README for verifying `Switchboard-Signature`. "
        "The secret is returned in this response only.",
        request=WebhookInputSerializer,
        responses={201: WebhookCreatedOutputSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a subscription (is_active: true re-activates a disabled one)",
        request=WebhookInputSerializer,
        responses={200: WebhookOutputSerializer},
    ),
    destroy=extend_schema(summary="Delete a subscription", responses={204: None}),
)
class WebhookViewSet(viewsets.GenericViewSet):
    serializer_class = WebhookOutputSerializer
    required_scope = ADMIN
    lookup_value_regex = "[^/]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    ordering = ["-id"]
    ordering_fields = ["id", "created_at"]
    filterset_class = WebhookFilter

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not viewer_from_request(request).unrestricted:
            raise exceptions.PermissionDenied(
                "Webhooks see the whole center's events; a team-bound key cannot manage them."
            )

    def get_queryset(self):
        return Webhook.objects.all()

    def get_object(self):
        pk = self.kwargs["pk"]
        if not str(pk).isdigit():
            raise exceptions.NotFound()
        return super().get_object()

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(WebhookOutputSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk=None) -> Response:
        return Response(WebhookOutputSerializer(self.get_object()).data)

    def create(self, request: Request) -> Response:
        serializer = WebhookInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("is_active", None)
        # a person when a session made it; an API key is no user row
        created_by = request.user if request.user.is_authenticated and request.user.pk else None
        webhook = webhook_create(**data, created_by=created_by)
        return Response(WebhookCreatedOutputSerializer(webhook).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk=None) -> Response:
        webhook = self.get_object()
        serializer = WebhookInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        webhook_update(webhook=webhook, **serializer.validated_data)
        return Response(WebhookOutputSerializer(webhook).data)

    def destroy(self, request: Request, pk=None) -> Response:
        webhook_delete(webhook=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class SurveyResponseView(APIView):
    """``POST /api/v1/surveys/{token}/responses``: the answer page's API twin, for apps and messaging bots."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "survey_answers"

    @extend_schema(
        summary="Answer a survey (public; the token from the survey link is the credential)",
        request=SurveyAnswerInputSerializer,
        responses={
            201: SurveyAnswerOutputSerializer,
            404: OpenApiResponse(OpenApiTypes.OBJECT, description="The token is not valid"),
            409: OpenApiResponse(OpenApiTypes.OBJECT, description="The survey has already been answered"),
            410: OpenApiResponse(OpenApiTypes.OBJECT, description="The token has expired"),
            429: OpenApiResponse(OpenApiTypes.OBJECT, description="Too many answers from this address"),
        },
    )
    def post(self, request: Request, token: str) -> Response:
        serializer = SurveyAnswerInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            response = survey_answer(token=token, **serializer.validated_data)
        except SurveyTokenExpired as exc:
            return Response({"detail": str(exc), "code": exc.code, "status": 410}, status=status.HTTP_410_GONE)
        except SurveyTokenInvalid as exc:
            raise exceptions.NotFound(str(exc)) from None
        return Response(SurveyAnswerOutputSerializer(response).data, status=status.HTTP_201_CREATED)
