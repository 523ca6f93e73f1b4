"""The SLA resources' API: SLA policies and business-hours calendars.

Reads need the ``read`` scope; writes need ``admin``. Both are center-wide configuration: only unrestricted callers
change them.
"""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_view
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from crm.routing.api.setup import SetupViewSet, setup_doc

from ..selectors import business_hours_list, sla_policy_list
from ..services.calendars import (
    HolidaySpec,
    PeriodSpec,
    business_hours_create,
    business_hours_delete,
    business_hours_update,
)
from ..services.policies import KEEP, sla_policy_create, sla_policy_delete, sla_policy_update, target_spec
from .filters import SLAPolicyFilter
from .serializers import (
    BusinessHoursInputSerializer,
    BusinessHoursOutputSerializer,
    SLAPolicyInputSerializer,
    SLAPolicyOutputSerializer,
)


@extend_schema_view(
    list=setup_doc("List SLA policies", 200, SLAPolicyOutputSerializer(many=True)),
    retrieve=setup_doc("An SLA policy with its targets", 200, SLAPolicyOutputSerializer),
    create=setup_doc(
        "Create an SLA policy", 201, SLAPolicyOutputSerializer, conflict=True, request=SLAPolicyInputSerializer
    ),
    update=setup_doc(
        "Replace an SLA policy", 200, SLAPolicyOutputSerializer, conflict=True, request=SLAPolicyInputSerializer
    ),
    partial_update=setup_doc(
        "Change some fields of an SLA policy",
        200,
        SLAPolicyOutputSerializer,
        conflict=True,
        request=SLAPolicyInputSerializer,
        description="`targets`, when given, replaces all the policy's targets.",
    ),
    destroy=setup_doc(
        "Delete an SLA policy",
        204,
        None,
        conflict=True,
        description="409 while a queue uses the policy: deleting it would silently leave those queues without "
        "any service-level promise. Point them at another policy first, or deactivate the policy.",
    ),
)
class SLAPolicyViewSet(SetupViewSet):
    """SLA policies are center-wide: every caller reads them, only unrestricted admin callers change them."""

    serializer_class = SLAPolicyOutputSerializer
    filterset_class = SLAPolicyFilter
    ordering = ["name"]
    ordering_fields = ["name", "created_at", "id"]

    def get_queryset(self):
        return sla_policy_list()

    def _require_unrestricted(self) -> None:
        if not self.viewer.unrestricted:
            raise exceptions.PermissionDenied(
                _("SLA policies are shared by all teams; a team-bound key cannot change them.")
            )

    def create(self, request: Request) -> Response:
        self._require_unrestricted()
        data = dict(self._input(SLAPolicyInputSerializer).validated_data)
        policy = sla_policy_create(
            **SLAPolicyInputSerializer.service_kwargs(data),
            targets=SLAPolicyInputSerializer.target_specs(data) or (),
            default_target=data.get("default_target"),
        )
        return self._output(policy.pk, status_code=status.HTTP_201_CREATED)

    def update(self, request: Request, pk=None, partial: bool = False) -> Response:
        policy = self.get_object()
        self._require_unrestricted()
        default = next((t for t in policy.targets.all() if t.is_default), None)
        serializer = SLAPolicyInputSerializer(
            data=request.data,
            partial=partial,
            context={"viewer": self.viewer, "default_target": target_spec(default) if default else None},
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        targets = SLAPolicyInputSerializer.target_specs(data)
        if not partial and targets is None:
            targets = []  # a PUT without overrides has none
        sla_policy_update(
            policy=policy,
            data=SLAPolicyInputSerializer.service_kwargs(data),
            targets=targets,
            default_target=data.get("default_target", KEEP),
        )
        return self._output(policy.pk)

    def destroy(self, request: Request, pk=None) -> Response:
        policy = self.get_object()
        self._require_unrestricted()
        sla_policy_delete(policy=policy)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=setup_doc("List business-hours calendars", 200, BusinessHoursOutputSerializer(many=True)),
    retrieve=setup_doc("A calendar with its periods and holidays", 200, BusinessHoursOutputSerializer),
    create=setup_doc(
        "Create a calendar", 201, BusinessHoursOutputSerializer, conflict=True, request=BusinessHoursInputSerializer
    ),
    update=setup_doc(
        "Replace a calendar", 200, BusinessHoursOutputSerializer, conflict=True, request=BusinessHoursInputSerializer
    ),
    partial_update=setup_doc(
        "Change some fields of a calendar",
        200,
        BusinessHoursOutputSerializer,
        conflict=True,
        request=BusinessHoursInputSerializer,
        description="`periods` and `holidays`, when given, replace them all. Open interactions under policies "
        "using the calendar get their due times recomputed.",
    ),
    destroy=setup_doc("Delete a calendar", 204, None, conflict=True, description="409 while an SLA policy uses it."),
)
class BusinessHoursViewSet(SetupViewSet):
    """Business-hours calendars are center-wide, like SLA policies: every caller reads, unrestricted admins write."""

    serializer_class = BusinessHoursOutputSerializer
    ordering = ["name"]
    ordering_fields = ["name", "created_at", "id"]

    def get_queryset(self):
        return business_hours_list()

    def _require_unrestricted(self) -> None:
        if not self.viewer.unrestricted:
            raise exceptions.PermissionDenied(
                _("Calendars are shared by all teams; a team-bound key cannot change them.")
            )

    @staticmethod
    def _specs(data: dict):
        periods = [PeriodSpec(**p) for p in data.pop("periods")] if "periods" in data else None
        holidays = [HolidaySpec(**h) for h in data.pop("holidays")] if "holidays" in data else None
        return periods, holidays

    def create(self, request: Request) -> Response:
        self._require_unrestricted()
        data = dict(self._input(BusinessHoursInputSerializer).validated_data)
        periods, holidays = self._specs(data)
        calendar = business_hours_create(**data, periods=periods or (), holidays=holidays or ())
        return self._output(calendar.pk, status_code=status.HTTP_201_CREATED)

    def update(self, request: Request, pk=None, partial: bool = False) -> Response:
        calendar = self.get_object()
        self._require_unrestricted()
        data = dict(self._input(BusinessHoursInputSerializer, partial=partial).validated_data)
        periods, holidays = self._specs(data)
        if not partial and holidays is None:
            holidays = []
        business_hours_update(calendar=calendar, data=data, periods=periods, holidays=holidays)
        return self._output(calendar.pk)

    def destroy(self, request: Request, pk=None) -> Response:
        calendar = self.get_object()
        self._require_unrestricted()
        business_hours_delete(calendar=calendar)
        return Response(status=status.HTTP_204_NO_CONTENT)
