"""Filters of the set-up list endpoints: a malformed value is a 400, never a silently ignored filter."""

from django import forms
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from config.choices import Channel

from ...models import Queue, SLAPolicy


class StrictFilterForm(forms.Form):
    """A typed parameter sent empty (``?is_active=``) is an error, as the schema says, not "no filter"."""

    def clean(self):
        cleaned = super().clean()
        for name, field in self.fields.items():
            if not isinstance(field, forms.CharField) and self.data.get(self.add_prefix(name)) == "":
                self.add_error(name, "Give a value, or leave the parameter out.")
        return cleaned


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(filters.TypedChoiceFilter):
    """``true`` or ``false``; anything else is a 400 (django-filter's BooleanFilter ignores "maybe")."""

    def __init__(self, **kwargs):
        super().__init__(choices=[("true", "true"), ("false", "false")], coerce=lambda value: value == "true", **kwargs)


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(filters.NumberFilter):
    """A whole-number id (NumberFilter alone takes decimals such as 1.5)."""

    field_class = forms.IntegerField


class QueueFilter(filters.FilterSet):
    channel = filters.ChoiceFilter(choices=Channel.choices, method="filter_channel", help_text="serves this channel")
    # An id, not a model choice: a team the caller cannot see filters to nothing rather than answering
    # "no such team", which would tell a team-bound caller which other teams exist.
    team = IdFilter(field_name="team_id", help_text="team id")
    is_active = StrictBooleanFilter()
    q = filters.CharFilter(field_name="name", lookup_expr="icontains", help_text="part of the name")

    class Meta:
        model = Queue
        fields = ["channel", "team", "is_active", "q"]
        form = StrictFilterForm

    def filter_channel(self, queryset, name, value):
        return queryset.filter(channels__contains=[value])


class SLAPolicyFilter(filters.FilterSet):
    is_active = StrictBooleanFilter()
    q = filters.CharFilter(field_name="name", lookup_expr="icontains", help_text="part of the name")

    class Meta:
        model = SLAPolicy
        fields = ["is_active", "q"]
        form = StrictFilterForm
