"""Filters of the set-up list endpoints (bad values answer 400, never an empty page)."""

from django_filters import rest_framework as filters

from agents.models import Team
from config.choices import Channel

from ...models import Queue, SLAPolicy


def strict_boolean_filter(field_name: str) -> filters.TypedChoiceFilter:
    """``true`` or ``false``; anything else is a 400 (django-filter's BooleanFilter ignores unknown values)."""
    return filters.TypedChoiceFilter(
        field_name=field_name,
        choices=[("true", "true"), ("false", "false")],
        coerce=lambda value: value == "true",
    )


class QueueFilter(filters.FilterSet):
    channel = filters.ChoiceFilter(choices=Channel.choices, method="filter_channel", help_text="serves this channel")
    team = filters.ModelChoiceFilter(queryset=Team.objects.all(), help_text="team id")
    is_active = strict_boolean_filter("is_active")
    q = filters.CharFilter(field_name="name", lookup_expr="icontains", max_length=100, help_text="name contains")

    class Meta:
        model = Queue
        fields = ["channel", "team", "is_active", "q"]

    def filter_channel(self, queryset, name, value):
        return queryset.filter(channels__contains=[value])


class SLAPolicyFilter(filters.FilterSet):
    is_active = strict_boolean_filter("is_active")
    q = filters.CharFilter(field_name="name", lookup_expr="icontains", max_length=100, help_text="name contains")

    class Meta:
        model = SLAPolicy
        fields = ["is_active", "q"]
