"""Filters of the review list: a malformed value is a 400, never a silently ignored filter."""

import django_filters

from config.api.filters import IdFilter, NonEmptyChoiceFilter
from crm.choices import ReviewStatus

from ..models import Review


class ReviewFilter(django_filters.FilterSet):
    agent = IdFilter(field_name="agent_id", help_text="agent id")
    status = NonEmptyChoiceFilter(choices=ReviewStatus.choices)

    class Meta:
        model = Review
        fields = ["agent", "status"]
