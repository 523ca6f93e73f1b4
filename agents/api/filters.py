"""Query parameters of the agents app's list endpoints."""

import django_filters
from django.db.models import Q

from config.api.filters import IdFilter, NonEmptyChoiceFilter, StrictBooleanFilter

from ..choices import AgentStatus, BreakStatus
from ..models import Agent, Break, Skill, Team


class AgentFilter(django_filters.FilterSet):
    # Ids, not model choices: an id the caller may not see filters to nothing instead of answering
    # "no such team", which would tell a team-bound caller which other teams exist.
    team = django_filters.NumberFilter(field_name="team_id", help_text="team id")
    status = django_filters.ChoiceFilter(choices=AgentStatus.choices)
    skill = django_filters.NumberFilter(field_name="agent_skills__skill_id", help_text="agents with this skill id")
    is_active = StrictBooleanFilter()
    q = django_filters.CharFilter(method="filter_q", help_text="part of the name or username")

    class Meta:
        model = Agent
        fields = ["team", "status", "skill", "is_active", "q"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(user__username__icontains=value))


class SkillFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", help_text="part of the name")

    class Meta:
        model = Skill
        fields = ["q"]


class TeamFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", help_text="part of the name")

    class Meta:
        model = Team
        fields = ["q"]


class BreakFilter(django_filters.FilterSet):
    agent = IdFilter(field_name="agent_id", help_text="agent id")
    status = NonEmptyChoiceFilter(choices=BreakStatus.choices)

    class Meta:
        model = Break
        fields = ["agent", "status"]
