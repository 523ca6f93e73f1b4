"""Reading interactions and their messages, always through the caller's view (``agents.access.Viewer``)."""

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from django.db.models import Q, QuerySet

from agents.access import Viewer
from agents.models import Agent

from ..choices import InteractionStatus
from ..models import Interaction, Message, Queue

__all__ = [
    "InteractionAction",
    "interaction_action_refusal",
    "interaction_assignable_agents",
    "interaction_filter",
    "interaction_get",
    "interaction_list",
    "interaction_permitted_actions",
    "interaction_target_queues",
    "interaction_visibility_q",
    "message_list",
    "queue_default_for_channel",
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


class InteractionAction(StrEnum):
    """What a caller may ask of an interaction they can see (``interaction_action_refusal`` decides)."""

    ACCEPT = "accept"
    ASSIGN = "assign"
    TRANSFER = "transfer"
    HOLD = "hold"
    RESUME = "resume"
    WRAP_UP = "wrap_up"
    RESOLVE = "resolve"
    CLOSE = "close"
    ABANDON = "abandon"
    REOPEN = "reopen"
    ESCALATE = "escalate"
    UPDATE = "update"  # subject, priority, tags, category
    MESSAGE = "message"  # a reply or an internal note


def _in_viewers_teams(viewer: Viewer, interaction: Interaction) -> bool:
    """The interaction belongs to one of the viewer's teams: its queue's team, or the team of the agent holding it."""
    if not viewer.team_ids:
        return False
    return (
        Interaction.objects.filter(pk=interaction.pk)
        .filter(Q(queue__team_id__in=viewer.team_ids) | Q(agent__team_id__in=viewer.team_ids))
        .exists()
    )


def _refusal(viewer: Viewer, interaction: Interaction, action: InteractionAction, in_teams) -> str | None:
    if viewer.unrestricted:
        return None
    if not viewer.is_agent_only and in_teams():
        return None
    if action in (InteractionAction.ASSIGN, InteractionAction.ESCALATE):
        return "Only a supervisor of the interaction's team may move queued work to an agent or another queue."
    if action == InteractionAction.ACCEPT and interaction.status != InteractionStatus.ASSIGNED:
        return None  # no offer to take: the lifecycle answers why (409), e.g. to an agent whose offer expired
    if viewer.agent_id is None or interaction.agent_id != viewer.agent_id:
        return (
            f"Interaction {interaction.pk} is not assigned to you: only its agent or a supervisor of its team "
            "may act on it."
        )
    if action != InteractionAction.ACCEPT and interaction.status == InteractionStatus.ASSIGNED:
        return f"Interaction {interaction.pk} is offered to you: accept it first."
    return None


def interaction_action_refusal(*, viewer: Viewer, interaction: Interaction, action: str) -> str | None:
    """Why ``viewer`` may not do ``action`` on ``interaction``, or None when they may: the one rule for the API and
    the console (docs/security.md). The caller has already checked that the viewer may *see* the interaction
    (``interaction_list``: else a 404) and answers a refusal with a 403 carrying this message.

    - An unrestricted caller (administrator, a key bound to no team) may do everything.
    - A supervisor of the interaction's team (its queue's team, or the team of the agent holding it), and a key
      bound to that team, may do everything, including ``assign`` and acting on an agent's behalf.
    - The assigned agent acts on their own work only, and an offer (``assigned``) must be accepted first: until
      then ``accept`` is the only thing they may do with it (declining is letting the offer time out). ``accept``
      of what is no offer is left to the lifecycle, which refuses it with the reason (409).
    - Nobody else: a teammate may read the work waiting in the team's queues but not act on it, and ``assign``,
      even to oneself, is a supervisor's action (the product has no self-pick: routing offers the work).
    """
    return _refusal(viewer, interaction, InteractionAction(action), lambda: _in_viewers_teams(viewer, interaction))


def interaction_permitted_actions(*, viewer: Viewer, interaction: Interaction) -> frozenset[InteractionAction]:
    """Every action ``interaction_action_refusal`` lets ``viewer`` do on ``interaction``, in at most one query."""
    known: list[bool] = []

    def in_teams() -> bool:
        if not known:
            known.append(_in_viewers_teams(viewer, interaction))
        return known[0]

    return frozenset(action for action in InteractionAction if _refusal(viewer, interaction, action, in_teams) is None)


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


def queue_default_for_channel(*, channel: str) -> Queue | None:
    """Where new work on ``channel`` goes when nobody names a queue: the highest-priority active queue serving it."""
    return Queue.objects.filter(is_active=True, channels__contains=[channel]).order_by("-priority", "id").first()


def interaction_target_queues(*, viewer: Viewer) -> QuerySet[Queue]:
    """Queues ``viewer`` may put new interactions into: any for the unrestricted, else their teams' queues."""
    if viewer.unrestricted:
        return Queue.objects.all()
    return Queue.objects.filter(team_id__in=viewer.team_ids)


def interaction_assignable_agents(*, viewer: Viewer) -> QuerySet[Agent]:
    """Active agents ``viewer`` may hand work to: any for the unrestricted, else their teams' agents."""
    agents = Agent.objects.filter(is_active=True)
    return agents if viewer.unrestricted else agents.filter(team_id__in=viewer.team_ids)
