"""Webhook subscriptions over REST: admin scope, unrestricted callers only (they see every event of the center)."""

from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from agents.access import viewer_from_request
from config.api.filters import StrictBooleanFilter
from config.api.permissions import ADMIN

from ..models import Webhook
from ..services import webhook_create, webhook_delete, webhook_update
from .serializers import WebhookCreatedOutputSerializer, WebhookInputSerializer, WebhookOutputSerializer


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
                _("Webhooks see the whole center's events; a team-bound key cannot manage them.")
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
