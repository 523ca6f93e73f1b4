"""Reactions to signals: what makes the router run. No logic here, only when to ask for it.

Connected in ``CrmConfig.ready``. The signals arrive after their transaction committed; the task is
still sent through ``transaction.on_commit`` in case a receiver runs inside a caller's atomic block.
"""

from django.dispatch import receiver

from agents.choices import AgentStatus
from agents.models import Agent
from agents.signals import agent_status_changed
from crm.choices import OWNED_STATUSES, InteractionEventKind, InteractionStatus
from crm.interactions.models import Interaction
from crm.interactions.signals import interaction_changed

from .services.triggers import request_routing


@receiver(interaction_changed, sender=Interaction, dispatch_uid="crm.route_on_interaction_changed")
def route_on_interaction_changed(
    sender, *, interaction_id, kind, from_status, to_status, batch=None, batch_index=0, **kwargs
) -> None:
    """Work entered a queue (queued, reopened, sent back), or an agent's capacity was freed: route. Changes
    committed together (``batch``) ask once, at the first of them.

    A transfer to another agent frees the first agent's slot too. Overflow moves and expired offers are
    left out: their sweeps move many at once and ask for one run themselves.
    """
    if batch is not None and batch_index:
        return  # asked (or not) with the first change of its batch
    changes = batch or ({"interaction_id": interaction_id, "kind": kind, "from_status": from_status,
                         "to_status": to_status},)  # fmt: skip
    routed = next((change for change in changes if _routes(**change)), None)
    if routed is not None:
        request_routing(reason=f"interaction {routed['interaction_id']} {routed['kind']}")


def _routes(*, kind, from_status, to_status, **change) -> bool:
    if kind in (InteractionEventKind.OVERFLOWED, InteractionEventKind.OFFER_TIMEOUT):
        return False
    return (
        to_status == InteractionStatus.QUEUED
        or (from_status in OWNED_STATUSES and to_status not in OWNED_STATUSES)
        or kind == InteractionEventKind.TRANSFERRED
    )


@receiver(agent_status_changed, sender=Agent, dispatch_uid="crm.route_on_agent_available")
def route_on_agent_available(sender, *, agent, status, **kwargs) -> None:
    """An agent became available: waiting work may go to them at once, not at the next periodic run."""
    if status == AgentStatus.AVAILABLE:
        request_routing(reason=f"agent {agent.pk} available")
