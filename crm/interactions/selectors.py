"""Reading interactions and their messages, always through the caller's view (``agents.access.Viewer``)."""

from collections.abc import Mapping
from typing import Any

from django.db.models import Q, QuerySet

from agents.access import Viewer
from agents.models import Agent, AgentRouting
from config.choices import Channel
from crm.choices import InteractionStatus

from .models import Interaction, Message

__all__ = [
    "agent_has_room",
    "interaction_assignable_agents",
    "interaction_filter",
    "interaction_get",
    "interaction_list",
    "interaction_visibility_q",
    "message_list",
]

NOTHING = Q(pk__in=[])


def interaction_visibility_q(viewer: Viewer) -> Q:
    """The interactions ``viewer`` may see, as a filter.

    - unrestricted (an administrator, a key bound to no team): all;
    - a plain agent: their own work, and what is queued in their team's queues;
    - a supervisor or a team-bound key: work in their teams' queues or held by their teams' agents.
    """
    if viewer.unrestricted:
        return Q()
    own = Q(agent_id=viewer.agent_id) if viewer.agent_id is not None else NOTHING
    if not viewer.team_ids:
        return own
    if viewer.is_agent_only:
        return own | Q(status=InteractionStatus.QUEUED, queue__team_id__in=viewer.team_ids)
    return own | Q(queue__team_id__in=viewer.team_ids) | Q(agent__team_id__in=viewer.team_ids)


def interaction_filter(*, queryset: QuerySet[Interaction], filters: Mapping[str, Any]) -> QuerySet[Interaction]:
    """Narrow ``queryset`` by already-validated filter values; empty or missing values do not filter.

    Keys: ``status`` (list), ``queue``, ``agent``, ``customer`` (ids), ``channel``, ``priority``,
    ``created_after``, ``created_before`` (aware datetimes, inclusive / exclusive), ``external_id``.
    """
    lookups = {
        "status": "status__in",
        "queue": "queue_id",
        "agent": "agent_id",
        "customer": "customer_id",
        "channel": "channel",
        "priority": "priority",
        "created_after": "created_at__gte",
        "created_before": "created_at__lt",
        "external_id": "external_id",
    }
    conditions = {
        lookup: filters[name] for name, lookup in lookups.items() if filters.get(name) not in (None, "", [], ())
    }
    return queryset.filter(**conditions) if conditions else queryset


def interaction_list(*, viewer: Viewer, filters: Mapping[str, Any] | None = None) -> QuerySet[Interaction]:
    """Interactions ``viewer`` may see, newest first.

    Nothing is joined in: a list shows its customer, queue and agent as ids, which are columns of the
    row. (Joining them cost a third of the list's time on a large table; the services that need the
    queue re-read the row they lock with it.)
    """
    queryset = Interaction.objects.filter(interaction_visibility_q(viewer)).order_by("-id")
    return interaction_filter(queryset=queryset, filters=filters) if filters else queryset


def interaction_get(*, viewer: Viewer, pk: int) -> Interaction:
    """One interaction ``viewer`` may see; ``Interaction.DoesNotExist`` otherwise (the API answers 404)."""
    return interaction_list(viewer=viewer).get(pk=pk)


def message_list(*, interaction: Interaction) -> QuerySet[Message]:
    """The interaction's messages, oldest first."""
    return Message.objects.filter(interaction_id=interaction.pk).select_related("author").order_by("created_at", "id")


def interaction_assignable_agents(*, viewer: Viewer) -> QuerySet[Agent]:
    """Active agents ``viewer`` may hand work to: any for the unrestricted, else their teams' agents."""
    agents = Agent.objects.filter(is_active=True)
    return agents if viewer.unrestricted else agents.filter(team_id__in=viewer.team_ids)


def agent_has_room(*, agent: Agent, channel: str) -> bool:
    """Whether ``agent`` can take more work on ``channel``: their owned work counted against their capacity (an
    owned voice call blocks everything).

    Reads the agent's kept load (``agents.AgentRouting``, one row by primary key, changed by PostgreSQL's triggers
    in the same statement as every move) as the router does, rather than counting their interactions. Exact
    under the agent's row lock, which every assigner holds: only an assigner adds to a load, and a move that
    lowers it concurrently can only make this answer cautious until it commits.
    """
    load = AgentRouting.objects.filter(agent_id=agent.pk).values_list("load", flat=True).first() or {}
    if load.get(Channel.VOICE):
        return False
    return load.get(channel, 0) < agent.capacity_for(channel)
