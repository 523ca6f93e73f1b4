"""Export and erase one customer over REST. Admin scope and an unrestricted caller (a customer's history spans
every team); the archive's link is handed only to whoever asked for it, and works once."""

from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.access import viewer_from_request
from config.api.permissions import ADMIN
from contacts.models import Customer
from crm.access.models import ApiKey

from ..models import ExportRequest
from ..services.erase import ErasureRefused, erasure_request
from ..services.export import ExportLinkInvalid, export_claim, export_link_token, export_request
from .serializers import ErasureInputSerializer, ErasureOutputSerializer, ExportOutputSerializer


class _PrivacyView(APIView):
    required_scope = ADMIN

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.viewer = viewer_from_request(request)
        if not self.viewer.unrestricted:
            raise exceptions.PermissionDenied(_("A customer's data spans every team; a team-bound caller cannot."))

    def requester(self, request):
        user = request.user if request.user.is_authenticated and request.user.pk else None
        key = ApiKey.objects.get(pk=self.viewer.api_key_id) if self.viewer.api_key_id else None
        return user, key

    def customer(self, customer_id: str) -> Customer:
        if not str(customer_id).isdigit():
            raise exceptions.NotFound()
        return get_object_or_404(Customer, pk=customer_id)


class CustomerExportView(_PrivacyView):
    @extend_schema(
        summary="Export a customer's data (built in the background)",
        request=None,
        responses={202: ExportOutputSerializer},
    )
    def post(self, request: Request, id: str) -> Response:
        user, key = self.requester(request)
        export = export_request(customer=self.customer(id), user=user, api_key=key)
        return Response(ExportOutputSerializer(export).data, status=status.HTTP_202_ACCEPTED)


class ExportDetailView(_PrivacyView):
    @extend_schema(
        summary="An export's progress; done: a signed link the requester may use once",
        responses={200: ExportOutputSerializer},
    )
    def get(self, request: Request, id: str) -> Response:
        if not str(id).isdigit():
            raise exceptions.NotFound()
        export = get_object_or_404(ExportRequest, pk=id)
        user, key = self.requester(request)
        mine = (export.requested_by_key_id == (key.pk if key else None)) and (
            key is not None or export.requested_by_id == (user.pk if user else None)
        )
        token = export_link_token(export) if mine else None
        url = None
        if token:
            url = request.build_absolute_uri(reverse("v1:crm-api:export-download", args=[export.pk])) + f"?t={token}"
        return Response(ExportOutputSerializer(export, context={"download_url": url}).data)


class ExportDownloadView(_PrivacyView):
    @extend_schema(
        summary="Download an export archive (the signed link, once, by the requester)",
        parameters=[OpenApiParameter("t", str, required=True, description="the signed token of the link")],
        responses={(200, "application/zip"): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, id: str):
        if not str(id).isdigit():
            raise exceptions.NotFound()
        try:
            export = export_claim(
                export_id=int(id),
                token=request.query_params.get("t", ""),
                user_id=request.user.pk if request.user.is_authenticated else None,
                api_key_id=self.viewer.api_key_id,
            )
        except ExportLinkInvalid as error:
            raise exceptions.NotFound(str(error)) from error
        return FileResponse(
            export.file.open("rb"), as_attachment=True, filename=f"customer-{export.customer_id}-export.zip"
        )


class CustomerEraseView(_PrivacyView):
    @extend_schema(
        summary="Ask to erase a customer's personal data (after the grace period, or immediately)",
        request=ErasureInputSerializer,
        responses={202: ErasureOutputSerializer},
    )
    def post(self, request: Request, id: str) -> Response:
        customer = self.customer(id)
        serializer = ErasureInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user, key = self.requester(request)
        try:
            erasure = erasure_request(customer=customer, user=user, api_key=key, **serializer.validated_data)
        except ErasureRefused as error:
            return Response({"detail": str(error)}, status=status.HTTP_409_CONFLICT)
        return Response(ErasureOutputSerializer(erasure).data, status=status.HTTP_202_ACCEPTED)
