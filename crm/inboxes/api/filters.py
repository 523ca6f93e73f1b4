"""Filters of the inbox list: a malformed value is a 400, never a silently ignored filter."""

from django_filters import rest_framework as filters

from config.api.filters import IdFilter, NonEmptyChoiceFilter, StrictBooleanFilter
from config.choices import Channel

from ..models import Inbox


class InboxFilter(filters.FilterSet):
    channel = NonEmptyChoiceFilter(choices=Channel.choices)
    queue = IdFilter(field_name="queue_id", help_text="queue id")
    is_active = StrictBooleanFilter()
    q = filters.CharFilter(field_name="name", lookup_expr="icontains", help_text="part of the name")

    class Meta:
        model = Inbox
        fields = ["channel", "queue", "is_active", "q"]
