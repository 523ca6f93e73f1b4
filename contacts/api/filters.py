"""Query-string filters of the customer and organization lists; a malformed value is a 400, never ignored."""

import django_filters
from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from config.api.filters import UtcDateTimeFilter

from ..choices import Tier
from ..models import Customer, Organization
from ..selectors import customer_search, organization_search


@extend_schema_field(OpenApiTypes.INT)
class IntegerFilter(django_filters.NumberFilter):
    """An id filter: ``1.5`` or ``abc`` is a 400 (NumberFilter would take decimals)."""

    field_class = forms.IntegerField


class _TextField(forms.CharField):
    """Text without NUL characters: PostgreSQL text never holds one, so dropping it changes no match and
    spares the caller a 400 for an otherwise valid string."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.validators = [v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)]

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace("\x00", "") if isinstance(value, str) else value


class TextFilter(django_filters.CharFilter):
    field_class = _TextField


class CustomerFilter(django_filters.FilterSet):
    q = TextFilter(
        method="filter_q",
        label="Search: name, e-mail or phone contains it; or an e-mail / phone / handle of the customer",
    )
    organization = IntegerFilter(field_name="organization_id", label="organization id")
    tier = django_filters.ChoiceFilter(choices=Tier.choices)
    tag = TextFilter(method="filter_tag", label="has this tag")
    language = TextFilter(field_name="language", lookup_expr="iexact", label="language code, any case")
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Customer
        fields: list[str] = []

    def filter_q(self, queryset, name, value):
        return customer_search(queryset, value)

    def filter_tag(self, queryset, name, value):
        return queryset.filter(tags__contains=[value]) if value else queryset


class OrganizationFilter(django_filters.FilterSet):
    q = TextFilter(method="filter_q", label="Search: name or domain contains it")

    class Meta:
        model = Organization
        fields: list[str] = []

    def filter_q(self, queryset, name, value):
        return organization_search(queryset, value)
