import django_filters

from ...choices import ReviewStatus
from ...models import Review


class ReviewFilter(django_filters.FilterSet):
    agent = django_filters.NumberFilter(field_name="agent_id", help_text="agent id")
    status = django_filters.ChoiceFilter(choices=ReviewStatus.choices)

    class Meta:
        model = Review
        fields = ["agent", "status"]
