"""What happens when an agent's console has been gone for the grace period (``crm.live.presence`` says who).

- The agent goes ``offline``; the status log says ``disconnected``. An agent on a break keeps it (the break
  module owns that status) and is looked at again after another grace period.
- Work offered to them and not yet accepted goes back to its queue (``offer_withdrawn``), keeping its place by
  age, and is routed to someone who is there.
- Chats they were handling stay theirs (the conversation history is theirs, and they may be back in a minute)
  but each gets an ``agent_disconnected`` event, and the wallboards of their team hear ``agent.disconnected``
  with those chats, so a supervisor can take them over.

Each step is its own short transaction and safe to repeat: an offer accepted meanwhile is left alone, an agent
already offline is not logged twice, and ``presence_gone`` reports an agent to one sweep only.
"""

import logging
import time

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from agents.choices import AgentStatus
from agents.models import Agent
from agents.services import agent_set_status
from config.choices import Channel
from config.errors import DomainError
from crm.choices import InteractionEventKind, InteractionStatus
from crm.interactions.models import Interaction
from crm.interactions.services import interaction_offer_withdraw
from crm.interactions.services.eventlog import log_event
from crm.live.events import agent_disconnected_sends
from crm.live.presence import presence_gone, presence_watch_again
from crm.live.publisher import publish

logger = logging.getLogger(__name__)

S = InteractionStatus
DISCONNECTED = "disconnected"
# Conversations the customer is waiting in right now: flagged to the supervisor when their agent is gone.
LIVE_CHANNELS = frozenset({Channel.CHAT})
HANDLING = frozenset({S.ACTIVE, S.ON_HOLD})


def presence_sweep(*, now: float | None = None) -> int:
    """Act on every agent gone for longer than the grace period; returns how many were taken offline."""
    return sum(agent_disconnected(agent_id=agent_id) for agent_id in presence_gone(now=now))


def agent_disconnected(*, agent_id: int) -> bool:
    """Take a gone agent offline, withdraw their offers and flag their open chats; False if nothing to do."""
    agent = Agent.objects.filter(pk=agent_id).first()
    if agent is None:
        return False
    if agent.status == AgentStatus.ON_BREAK:
        presence_watch_again(agent_id=agent_id, at=time.time() + settings.SWITCHBOARD_PRESENCE_GRACE_SECONDS)
        return False
    went_offline = agent.status != AgentStatus.OFFLINE
    if went_offline:
        agent_set_status(agent=agent, status=AgentStatus.OFFLINE, reason=DISCONNECTED)
    withdrawn = _withdraw_offers(agent_id=agent_id)
    flagged = _flag_chats(agent_id=agent_id)
    if went_offline or withdrawn or flagged:
        logger.info(
            "presence: agent %s disconnected; %d offer(s) withdrawn, %d chat(s) flagged",
            agent_id,
            withdrawn,
            len(flagged),
        )
    if flagged:
        try:
            publish(agent_disconnected_sends(agent=agent, interaction_ids=flagged))
        except Exception:  # the changes are committed; the wallboard catches up at its next snapshot
            logger.exception("presence: could not tell the wallboards that agent %s is gone", agent_id)
    return went_offline


def _withdraw_offers(*, agent_id: int) -> int:
    withdrawn = 0
    offered = Interaction.objects.filter(agent_id=agent_id, status=S.ASSIGNED).values_list("pk", flat=True)
    for pk in list(offered):
        try:
            interaction_offer_withdraw(interaction=Interaction(pk=pk))
        except DomainError:  # accepted or moved meanwhile: whoever holds it decides
            continue
        withdrawn += 1
    return withdrawn


def _flag_chats(*, agent_id: int) -> list[int]:
    flagged = []
    with transaction.atomic():
        chats = Interaction.objects.select_for_update(of=("self",)).filter(
            agent_id=agent_id, status__in=HANDLING, channel__in=LIVE_CHANNELS
        )
        now = timezone.now()
        for interaction in chats.only("pk", "status"):
            log_event(
                interaction=interaction,
                kind=InteractionEventKind.AGENT_DISCONNECTED,
                from_status=interaction.status,
                to_status=interaction.status,
                agent_id=agent_id,
                at=now,
                data={"reason": DISCONNECTED},
            )
            flagged.append(interaction.pk)
    return flagged
