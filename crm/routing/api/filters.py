"""Filters of the queue list: a malformed value is a 400, never a silently ignored filter."""

from django_filters import rest_framework as filters

from config.api.filters import IdFilter, StrictBooleanFilter
from config.choices import Channel

from ..models import Queue


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

    def filter_channel(self, queryset, name, value):
        return queryset.filter(channels__contains=[value])
