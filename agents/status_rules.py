"""Which presence statuses a person may set, checked by ``agents.services.agent_set_status`` for every caller.

Decided (issue 11):

- **Self-service** (the actor is the agent's own user — an agent in the console or the API, or a supervisor
  changing their own agent profile): ``available``, ``not_ready`` and ``offline``, within the usual
  transitions. ``busy`` and ``wrap_up`` follow from the agent's work (the lifecycle, or an integrator's
  telephony through an API key): an agent setting them would count idle time as handling time in
  occupancy, so they are refused.
- **on_break** is the outcome of a break. Where the agent's team has an active ``BreakPolicy`` (it caps how many
  of the team may be away at once, and breaks there are requested and approved), nobody — neither the agent
  nor a supervisor — sets ``on_break`` directly: the agent requests a break and takes it once another person
  approved it, or a supervisor sends them (``agents.breaks``). The break services start the ``Break`` row
  first, so the status follows from a started break and passes this check. Without a team or an active
  policy there is no approval or cap to get round, and ``on_break`` stays self-service.
- Without an actor (the system: routing's not-ready on a missed offer, deactivation, API keys, which are not
  persons) nothing here applies; the scopes of the API and the transitions still do.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _

from config.errors import NotAllowed

from .choices import AgentStatus, BreakStatus
from .models import Agent, Break, BreakPolicy

SELF_SERVICE_STATUSES = frozenset({AgentStatus.AVAILABLE, AgentStatus.NOT_READY, AgentStatus.OFFLINE})
WORK_STATUSES = frozenset({AgentStatus.BUSY, AgentStatus.WRAP_UP})


def break_needs_approval(*, agent: Agent) -> bool:
    """Does ``agent``'s team ask for breaks to be requested and approved (an active break policy)?"""
    return agent.team_id is not None and BreakPolicy.objects.filter(team_id=agent.team_id, is_active=True).exists()


def status_change_check(*, agent: Agent, status: str, actor: AbstractBaseUser | None) -> None:
    """Raise ``NotAllowed`` (403) if ``actor`` may not move ``agent`` to ``status`` themselves (module doc)."""
    if actor is None or actor.pk is None:
        return
    own = actor.pk == agent.user_id
    if own and status in WORK_STATUSES:
        raise NotAllowed(
            _("You cannot set yourself %(lower)s: it follows from your work. Choose available, not ready or offline.")
            % {"lower": AgentStatus(status).label.lower()},
            code="status_not_self_service",
        )
    if status == AgentStatus.ON_BREAK and break_needs_approval(agent=agent):
        if Break.objects.filter(agent_id=agent.pk, status=BreakStatus.STARTED).exists():
            return  # the break services started a break: this is its status following
        whose, instead = (
            ("Your", "request a break; you take it once a supervisor approves it.")
            if own
            else (f"{agent.name}'s", "send them on a break instead.")
        )
        raise NotAllowed(
            _("%(whose)s team's break policy asks for breaks to be requested and approved: %(instead)s")
            % {"whose": whose, "instead": instead},
            code="break_approval_required",
        )
