"""Who may act on an interaction: the one rule the API and the console both ask (docs/security.md)."""

from enum import StrEnum

from django.db.models import Q

from agents.access import Viewer
from crm.choices import InteractionStatus

from .models import Interaction

__all__ = ["InteractionAction", "interaction_action_refusal", "interaction_permitted_actions"]


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
