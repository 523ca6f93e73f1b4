"""Filters of the SLA policy list: a malformed value is a 400, never a silently ignored filter."""

from django_filters import rest_framework as filters

from config.api.filters import StrictBooleanFilter

from ..models import SLAPolicy


class SLAPolicyFilter(filters.FilterSet):
    is_active = StrictBooleanFilter()
    q = filters.CharFilter(field_name="name", lookup_expr="icontains", help_text="part of the name")

    class Meta:
        model = SLAPolicy
        fields = ["is_active", "q"]
