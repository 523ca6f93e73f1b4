"""What the SLA concern registers on the hooks of the core and of routing.

- ``interaction_saving`` (``crm.interactions.hooks``): ``refresh_due_times`` recomputes the due times under the
  row lock whenever a move, a priority change or a reply may start, pause, resume or freeze a clock.
- ``queue_changed`` (``crm.routing.hooks``): ``recompute_on_policy_change`` asks for the open work of a queue
  that got another SLA policy to be recomputed after the commit.
"""

from collections.abc import Sequence

from crm.choices import InteractionEventKind, InteractionStatus
from crm.interactions import hooks as core
from crm.interactions.hooks import Move
from crm.interactions.models import Interaction
from crm.routing import hooks as routing
from crm.routing.models import Queue

from .services.engine import sla_refresh, sla_request_recompute

Kind = InteractionEventKind
# A hand-over to another queue keeps the customer's due times: the promise does not change with an internal move.
HANDOVERS = frozenset({Kind.TRANSFERRED, Kind.ESCALATED})


def refresh_due_times(*, interaction: Interaction, move: Move) -> Sequence[str]:
    """Recompute the SLA fields of the interaction about to be saved; returns the fields set."""
    if move.kind in HANDOVERS and move.from_status != InteractionStatus.ON_HOLD:
        return []  # unless the hand-over ends a pause
    if move.kind == Kind.UPDATED and not ("priority" in move.changed and interaction.is_open):
        return []  # only a new priority (of open work) can pick another target
    return sla_refresh(interaction=interaction, now=move.now)


def recompute_on_policy_change(*, queue: Queue, changed: frozenset[str]) -> None:
    if "sla_policy" in changed:
        sla_request_recompute(queue_ids=[queue.pk])


def register() -> None:
    core.interaction_saving.register(refresh_due_times)
    routing.queue_changed.register(recompute_on_policy_change)
