"""Query parameters of the interaction list: this module parses them, ``crm.selectors`` applies them."""

from datetime import UTC

from django import forms
from django.db.models import BigIntegerField, ExpressionWrapper, F
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.filters import BaseFilterBackend

from config.choices import Channel
from crm.choices import InteractionStatus, Priority
from crm.selectors import interaction_filter

MAX_ID = 2**63 - 1


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(filters.Filter):
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, converted to UTC: PostgreSQL refuses offsets beyond ±15:59 that Python accepts."""

    def to_python(self, value):
        parsed = super().to_python(value)
        try:
            return parsed.astimezone(UTC) if parsed is not None else None
        except OverflowError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class UtcDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class StatusInFilter(filters.BaseInFilter, filters.ChoiceFilter):
    """One status or several, comma-separated: ``?status=queued,assigned``."""


class InteractionFilterSet(filters.FilterSet):
    status = StatusInFilter(choices=InteractionStatus.choices, help_text="one status or a comma-separated list")
    queue = IdFilter(help_text="queue id")
    agent = IdFilter(help_text="agent id")
    customer = IdFilter(help_text="customer id")
    channel = filters.ChoiceFilter(choices=Channel.choices)
    priority = filters.TypedChoiceFilter(choices=Priority.choices, coerce=int, help_text="1 low … 4 urgent")
    created_after = UtcDateTimeFilter(help_text="created at or after (ISO 8601)")
    created_before = UtcDateTimeFilter(help_text="created before (ISO 8601)")
    external_id = filters.CharFilter()

    def filter_queryset(self, queryset):
        # the selector owns what each filter means; this class only parses and validates the parameters
        return interaction_filter(queryset=queryset, filters=self.form.cleaned_data)


# Cursor pagination pages on the first ordering field, so every ordering must be (nearly) unique and
# stable. Priority has four values: it is paged on a derived key, priority then id, in one integer.
PRIORITY_POSITION = ExpressionWrapper(F("priority") * 2**50 + F("id"), output_field=BigIntegerField())
ORDERINGS = {
    "-id": ("-id",),
    "id": ("id",),
    "-created_at": ("-created_at", "-id"),
    "created_at": ("created_at", "id"),
    "-priority": ("-priority_position",),
    "priority": ("priority_position",),
}


class InteractionOrderingFilter(BaseFilterBackend):
    """``?ordering=`` one of: -id (default), id, created_at, -created_at, priority, -priority (ties: by id)."""

    ordering_param = "ordering"

    def get_ordering(self, request, queryset, view):
        value = request.query_params.get(self.ordering_param, "").strip() or "-id"
        if value not in ORDERINGS:
            raise serializers.ValidationError(
                {self.ordering_param: [f"Order by one of {', '.join(ORDERINGS)}; got '{value}'."]}
            )
        return ORDERINGS[value]

    def filter_queryset(self, request, queryset, view):
        ordering = self.get_ordering(request, queryset, view)
        if ordering[0].lstrip("-") == "priority_position":
            queryset = queryset.annotate(priority_position=PRIORITY_POSITION)
        return queryset.order_by(*ordering)

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": "Sort order; ties are broken by id.",
                "schema": {"type": "string", "enum": list(ORDERINGS), "default": "-id"},
            }
        ]
