"""Query parameters of the interaction list: this module parses them, ``crm.interactions.selectors`` applies them."""

from django.db.models import BigIntegerField, ExpressionWrapper, F
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from rest_framework import serializers
from rest_framework.filters import BaseFilterBackend

from config.api.filters import IdFilter, StaticFilterSet, UtcDateTimeFilter
from config.choices import Channel
from crm.choices import InteractionStatus, Priority

from ..selectors import interaction_filter


class StatusInFilter(filters.BaseInFilter, filters.ChoiceFilter):
    """One status or several, comma-separated: ``?status=queued,assigned``."""


class InteractionFilterSet(StaticFilterSet):
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
                {
                    self.ordering_param: [
                        _("Order by one of %(join)s; got '%(value)s'.") % {"join": ", ".join(ORDERINGS), "value": value}
                    ]
                }
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
