"""Reports over REST: KPIs per group, contacts by category, agent occupancy; JSON or a streamed CSV.

Reads need the ``read`` scope. Every figure is narrowed to the caller (``reporting.selectors.kpi_scope_q``): an
agent reads only their own work, a supervisor their teams', administrators and unscoped keys everything.
"""

from collections.abc import Iterable, Sequence

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import renderers
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.access import Viewer, viewer_from_request
from config.api.serializers import ErrorSerializer
from config.exports import csv_lines
from config.replicas import ReplicaReadsMixin

from ..selectors import KPI_FIELDS, KpiQuery, agent_occupancy, contacts_by_category, kpi_rows
from ..selectors.ivr import ivr_figures
from .serializers import (
    FORMATS,
    CategoryQuerySerializer,
    CategoryReportSerializer,
    IvrReportSerializer,
    KpiQuerySerializer,
    KpiReportSerializer,
    OccupancyQuerySerializer,
    OccupancyReportSerializer,
)

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


class CSVRenderer(renderers.BaseRenderer):
    """Lets ``?format=csv`` and ``Accept: text/csv`` through content negotiation; the views stream the body."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return b""  # never used: a CSV answer is a StreamingHttpResponse, errors are rendered as JSON


def csv_response(*, header: Sequence[str], rows: Iterable[dict], filename: str):
    """The rows streamed as CSV (UTF-8 with BOM); text that a spreadsheet would run as a formula is made inert."""
    from django.http import StreamingHttpResponse

    response = StreamingHttpResponse(csv_lines(header, rows), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _csv_schema(serializer, description: str):
    return {
        (200, "application/json"): serializer,
        (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description=description),
        400: OpenApiResponse(OpenApiTypes.OBJECT, description='Invalid parameters, per field: {"to": ["..."]}'),
        403: OpenApiResponse(ErrorSerializer, description="Missing read scope, or another agent's figures"),
    }


class _ReportView(ReplicaReadsMixin, APIView):
    renderer_classes = [renderers.JSONRenderer, CSVRenderer]
    query_serializer = None

    def perform_content_negotiation(self, request, force=False):
        # DRF answers an unknown ?format= with a 404; it is a parameter like any other, so a 400 naming it
        fmt = request.query_params.get("format")
        if not force and fmt is not None and fmt not in FORMATS:
            raise ValidationError({"format": [_("Choose one of: %(join)s.") % {"join": ", ".join(FORMATS)}]})
        return super().perform_content_negotiation(request, force)

    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, Response) and response.status_code >= 400:
            # errors are JSON whatever the client asked for, as the schema documents
            request.accepted_renderer = renderers.JSONRenderer()
            request.accepted_media_type = "application/json"
        return super().finalize_response(request, response, *args, **kwargs)

    def query(self, request: Request) -> dict:
        serializer = self.query_serializer(data=request.query_params.dict())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def kpi_query(self, request: Request, *, grouped: bool = False) -> tuple[dict, Viewer, KpiQuery]:
        """The validated parameters, the caller's view and the query; an agent asking for another's figures is a 403."""
        params = self.query(request)
        viewer = viewer_from_request(request)
        if viewer.is_agent_only and params.get("agent") not in (None, viewer.agent_id):
            raise PermissionDenied(_("Agents may read only their own figures."))
        query = KpiQuery(
            start=params["start"],
            end=params["end"],
            tz=params["tz"],
            queue=params.get("queue"),
            channel=params.get("channel"),
            team=params.get("team"),
            agent=params.get("agent"),
            inbox=params.get("inbox"),
            **({"group_by": params["group_by"]} if grouped else {}),
        )
        return params, viewer, query

    @staticmethod
    def wants_csv(request: Request) -> bool:
        return getattr(request.accepted_renderer, "format", None) == "csv"

    @staticmethod
    def filename(prefix: str, params: dict) -> str:
        return f"{prefix}_{params['start']:%Y%m%dT%H%M}_{params['end']:%Y%m%dT%H%M}.csv"


class KpiReportView(_ReportView):
    query_serializer = KpiQuerySerializer

    @extend_schema(
        summary="Contact-center KPIs over a range, one row per group",
        description=(
            "Interactions created in `[from, to)`, grouped by `group_by` (day and hour in `tz`). Rates are "
            "fractions 0–1 (NPS −1..1), null where undefined (no traffic). Definitions: see the field "
            "descriptions and the README. `format=csv` streams the same rows as CSV (UTF-8 with BOM, for Excel). "
            "An agent reads only their own figures; a supervisor their teams'."
        ),
        parameters=[KpiQuerySerializer],
        responses=_csv_schema(KpiReportSerializer, "The rows as CSV, header first"),
    )
    def get(self, request: Request):
        params, viewer, query = self.kpi_query(request, grouped=True)
        rows = kpi_rows(viewer=viewer, query=query)
        if self.wants_csv(request):
            return csv_response(
                header=["group", "label", *KPI_FIELDS], rows=rows, filename=self.filename("kpis", params)
            )
        body = {"from": params["start"], "to": params["end"], "tz": params["tz"], "group_by": query.group_by}
        return Response(KpiReportSerializer({**body, "rows": rows}).data)


class CategoryReportView(_ReportView):
    query_serializer = CategoryQuerySerializer

    @extend_schema(
        summary="Contacts by category and disposition, with first-contact resolution",
        parameters=[CategoryQuerySerializer],
        responses=_csv_schema(CategoryReportSerializer, "The rows as CSV, header first"),
    )
    def get(self, request: Request):
        params, viewer, query = self.kpi_query(request)
        rows = contacts_by_category(viewer=viewer, query=query)
        if self.wants_csv(request):
            header = ["category", "disposition", "contacts", "resolved", "fcr"]
            return csv_response(header=header, rows=rows, filename=self.filename("categories", params))
        body = {"from": params["start"], "to": params["end"], "tz": params["tz"], "rows": rows}
        return Response(CategoryReportSerializer(body).data)


class IvrReportView(_ReportView):
    query_serializer = CategoryQuerySerializer

    @extend_schema(
        summary="Voice self-service: IVR containment and abandonment by IVR step",
        parameters=[CategoryQuerySerializer],
        responses=_csv_schema(IvrReportSerializer, "Abandonment by IVR step as CSV (step, abandoned), header first"),
    )
    def get(self, request: Request):
        params, viewer, query = self.kpi_query(request)
        figures = ivr_figures(viewer=viewer, query=query)
        if self.wants_csv(request):  # the abandonment by IVR step, a row a step
            return csv_response(
                header=["step", "abandoned"], rows=figures["abandoned_by_step"], filename=self.filename("ivr", params)
            )
        body = {"from": params["start"], "to": params["end"], "tz": params["tz"], **figures}
        return Response(IvrReportSerializer(body).data)


class OccupancyReportView(_ReportView):
    query_serializer = OccupancyQuerySerializer

    @extend_schema(
        summary="Occupancy and utilisation per agent, from the status log",
        description="At most 31 days. An agent sees only their own row; a supervisor their teams' agents.",
        parameters=[OccupancyQuerySerializer],
        responses=_csv_schema(OccupancyReportSerializer, "The rows as CSV, header first"),
    )
    def get(self, request: Request):
        params = self.query(request)
        rows = agent_occupancy(
            viewer=viewer_from_request(request), start=params["start"], end=params["end"], team=params.get("team")
        )
        if self.wants_csv(request):
            header = [
                "agent",
                "name",
                "handling_seconds",
                "available_seconds",
                "logged_in_seconds",
                "occupancy",
                "utilisation",
            ]
            return csv_response(header=header, rows=rows, filename=self.filename("occupancy", params))
        body = {"from": params["start"], "to": params["end"], "tz": params["tz"], "rows": rows}
        return Response(OccupancyReportSerializer(body).data)
