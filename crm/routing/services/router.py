"""The router (ACD): give queued interactions to the best free agent, safely from many processes at once.

Order of work: the queue's priority, then the interaction's priority plus an ageing boost (one step per
``SWITCHBOARD_ROUTING_AGEING_MINUTES`` waited, so low priority never starves), then the oldest.
Choice of agent: available, active, every skill the queue requires at its minimum level, spare capacity
on the interaction's channel (an owned voice call blocks all other work); then the highest total level
in the queue's skills, then the agent idle longest (since their last assignment or status change), which
spreads work round-robin over equally qualified agents. Claiming is in ``claiming``, reading and planning in ``planner``.

Batches: one transaction claims up to ``BATCH`` waiting interactions (``route_next``: one) in serving order
with ``FOR UPDATE SKIP LOCKED``, reads the available agents once (skills, room, idle time; without locks),
and plans in memory, interaction by interaction, the agent the one-at-a-time router would pick, counting
each pick against that agent's room and idle time. The planned agents' rows are then locked the same way
(an agent locked by another router is being given work by it: the plan is redone without them). The batch's
assignments are one ``interaction_assign_many`` (``crm.interactions.services.assignment``: compare-and-set,
event log, ownership history, webhooks and signals as ``interaction_assign``, in a fixed number of statements).
Each agent's owned work per channel and latest assignment are read from their routing state row
(``agents.AgentRouting``), which the database's triggers keep in the statement of every move of their work; the
lock takes that row with the agent's, so the loads planned with are exact until the commit and nobody else's
assignment can fill the agent meanwhile. The read leaves out agents with no room on the batch's channels; for one
interaction it reads only the ``BEST_FEW`` best agents for it, in the planner's order (all of them again if other
routers hold every one). One decision is 5 statements (claim with the queue's skills, agents with their loads,
lock, write, history and events) plus BEGIN/COMMIT; the webhook subscriptions come from a per-process cache.
The claim, the read, the locks and the writes are paid once per batch instead of once per interaction;
``tests/crm/routing/test_routing.py`` checks a batch assigns exactly as one at a time.
"""

import logging

from django.db import transaction
from django.utils import timezone

from agents.choices import AgentStatus
from agents.models import Agent
from config.metrics import routing_decisions
from crm.interactions.models import Interaction
from crm.interactions.services.assignment import interaction_assign_many
from crm.routing.models import Queue
from crm.routing.services.claiming import claim
from crm.routing.services.picking import Plan, plan_assignments
from crm.routing.services.planner import (
    AgentState,
    Run,
    capacity_of,
    lock_agents,
    read_agents,
    wait_for_agents,
)

logger = logging.getLogger(__name__)

# Queued interactions claimed per transaction by ``route_pending``: one sort of the waiting work, one read of
# the agents and one lock statement serve them all; small enough that the locks are held for a moment only (a batch
# of 100 takes about 50 ms on 2 cores; 100 instead of 50 took 4 routers from about 1,900 to 2,100–2,500 a second).
BATCH = 100
# Agents read for one interaction (``route_next``): the best few for it, as the planner ranks them; more only when
# other routers hold all of them. Enough for many routers at once, each holding one agent at a time.
BEST_FEW = 16
# Rounds of "plan, lock the planned agents, re-plan without those another router holds" per batch.
LOCK_ROUNDS = 3
# Extra passes of ``route_pending`` over the work it skipped because other routers held every agent who could take
# it: a pass first waits for the transactions that held those agents (``wait_for_agents``), which may have left room.
SKIPPED_PASSES = 3


def _plan_and_lock(
    *,
    claimed: list[Interaction],
    states: dict[int, AgentState],
    run: Run,
    locked: dict[int, Agent],
    held: set[int],
    now,
) -> list[Plan]:
    """Plan, lock the planned agents, re-plan without those another router holds (``LOCK_ROUNDS`` at most).

    The locked rows give each agent's capacity and owned work as they are now, and stay so until the commit
    (every change of an agent's load waits for the lock): a plan made with them holds.
    """
    for _ in range(LOCK_ROUNDS):
        plans = plan_assignments(claimed=claimed, states=states, run=run, held=held, now=now)
        wanted = sorted({p.agent for p in plans if p.agent is not None} - locked.keys())
        if not wanted:
            return plans
        got = lock_agents(wanted)
        locked |= got
        held |= set(wanted) - got.keys()
        changed = len(got) < len(wanted)
        for pk, agent in got.items():
            state, capacity = states[pk], capacity_of(agent.capacity)
            changed = changed or agent.routing_load != state.load or capacity != state.capacity
            state.load, state.capacity = agent.routing_load, capacity
        if not changed:  # every planned agent is locked and as read: the plan stands
            return plans
    return plan_assignments(claimed=claimed, states=states, run=run, held=held, now=now)


def _route_batch(*, size: int, queue: Queue | None, run: Run) -> tuple[list[Interaction], bool]:
    """Claim up to ``size`` waiting interactions and assign those an agent can take, in one transaction.

    Returns (assigned interactions in serving order, whether anything was claimed).
    """
    with transaction.atomic():
        claimed, waiting = claim(size=size, queue=queue, run=run)
        if not claimed:
            return [], waiting
        run.load_skills(claimed)
        skills, channels = [run.required_skills[i.queue_id] for i in claimed], [i.channel for i in claimed]
        # One interaction: its best few agents are enough, unless all of them are held or were filled meanwhile
        limit = BEST_FEW if len(claimed) == 1 else None
        states = read_agents(skills=skills, channels=channels, limit=limit)
        locked: dict[int, Agent] = {}
        held: set[int] = set()
        now = timezone.now()
        plans = _plan_and_lock(claimed=claimed, states=states, run=run, locked=locked, held=held, now=now)
        if limit is not None and len(states) == limit and plans[0].agent not in locked:
            states = read_agents(skills=skills, channels=channels) | {pk: states[pk] for pk in locked}
            plans = _plan_and_lock(claimed=claimed, states=states, run=run, locked=locked, held=held, now=now)
        # The claim holds every interaction and the locks every planned agent's load: each write wins as planned.
        assigned = interaction_assign_many(
            pairs=[(p.interaction, locked[p.agent]) for p in plans if p.agent is not None and p.agent in locked]
        )
        run.held_agents |= held
        for plan in plans:
            if plan.agent is None or plan.agent not in locked:
                if plan.routable:
                    run.skipped.add(plan.interaction.pk)
                else:
                    run.unroutable.add((plan.interaction.queue_id, plan.interaction.channel))
    for interaction in assigned:
        routing_decisions.labels(interaction.status).inc()  # offered or active (auto-accepted)
    return assigned, True


def route_next(*, queue: Queue | None = None) -> Interaction | None:
    """Assign the first waiting interaction (of ``queue``, or of any queue) that some agent can take now.

    Returns the assigned interaction, or None when nothing waiting can be assigned at the moment.
    Safe to call from many processes at once.
    """
    run = Run()
    while True:
        assigned, claimed = _route_batch(size=1, queue=queue, run=run)
        if assigned:
            return assigned[0]
        if not claimed:
            return None


def route_pending(*, limit: int = 100) -> int:
    """Assign waiting work until no agent can take more or ``limit`` assignments were made; returns how many.

    Works in batches of up to ``BATCH`` interactions per transaction, each assigned exactly as ``route_next``
    would assign them one after another. Work skipped because other routers held every agent who could take it
    is looked at again once they let go (``SKIPPED_PASSES``). Idempotent: with nothing waiting or nobody free it
    changes nothing.
    The periodic task and every trigger (work queued, agent available, work finished) call this.
    """
    if not Agent.objects.filter(status=AgentStatus.AVAILABLE, is_active=True).exists():
        return 0
    run = Run()
    routed = passes = 0
    while routed < limit:
        assigned, claimed = _route_batch(size=min(BATCH, limit - routed), queue=None, run=run)
        routed += len(assigned)
        if claimed:
            continue
        # Out of work. What was skipped because other transactions held every agent who could take it is looked
        # at again once they have ended (they may have left room): no trigger would ask for it again.
        if not run.skipped or passes == SKIPPED_PASSES or not wait_for_agents(run.held_agents):
            break
        run.skipped.clear()
        run.held_agents.clear()
        passes += 1
    if routed:
        logger.info("routing: assigned %d interaction(s)", routed)
    return routed
