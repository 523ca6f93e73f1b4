"""The router (ACD): give queued interactions to the best free agent, safely from many processes at once.

Order of work: the queue's priority, then the interaction's priority plus an ageing boost (one step per
``SWITCHBOARD_ROUTING_AGEING_MINUTES`` waited, so low priority never starves), then the oldest.
Choice of agent: available, active, every skill the queue requires at its minimum level, spare capacity
on the interaction's channel (an owned voice call blocks all other work); then the highest total level
in the queue's skills, then the agent idle longest (since their last assignment or status change), which
spreads work round-robin over equally qualified agents. Claiming, reading and planning are in ``planner``.

Batches: one transaction claims up to ``BATCH`` waiting interactions (``route_next``: one) in serving order
with ``FOR UPDATE SKIP LOCKED``, reads the available agents once (skills, room, idle time; without locks),
and plans in memory, interaction by interaction, the agent the one-at-a-time router would pick, counting
each pick against that agent's room and idle time. The planned agents' rows are then locked the same way
(an agent locked by another router is being given work by it: the plan is redone without them). The batch's
assignments are one ``interaction_assign_many`` (``crm.interactions.services.assignment``: compare-and-set,
event log, ownership history, webhooks and signals as ``interaction_assign``, in a fixed number of statements).
The locked agents' owned work is counted again under the lock, which every router holds while assigning, so
room is exact: for a batch in a statement of its own; for one interaction (``route_next``) in the UPDATE
itself, which writes nothing unless it is as planned (then it is counted again and the work planned again).
One decision is 7 statements (claim with the queue's skills, agents with their work, lock, checked write,
history and events, webhook subscriptions) plus BEGIN/COMMIT.
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
from crm.routing.services.planner import (
    AgentState,
    Plan,
    Run,
    agent_loads,
    capacity_of,
    claim,
    lock_agents,
    plan_assignments,
    read_agents,
)

logger = logging.getLogger(__name__)

# Queued interactions claimed per transaction by ``route_pending``: one sort of the waiting work, one read of
# the agents and one lock statement serve them all; small enough that the locks are held for a moment only.
BATCH = 50
# Rounds of "plan, lock the planned agents, re-plan without those another router holds" per batch.
LOCK_ROUNDS = 3


def _plan_and_lock(
    *,
    claimed: list[Interaction],
    states: dict[int, AgentState],
    run: Run,
    locked: dict[int, Agent],
    held: set[int],
    now,
    recount: bool,
) -> list[Plan]:
    """Plan, lock the planned agents, re-plan without those another router holds (``LOCK_ROUNDS`` at most).

    The locked rows give each agent's capacity as it is now. With ``recount`` their owned work is counted again
    under the lock too (a statement per round); without it the caller has the assignment check those counts.
    """
    for _ in range(LOCK_ROUNDS):
        plans = plan_assignments(claimed=claimed, states=states, run=run, held=held, now=now)
        wanted = sorted({p.agent for p in plans if p.agent is not None} - locked.keys())
        if not wanted:
            return plans
        got = lock_agents(wanted)
        locked |= got
        held |= set(wanted) - got.keys()
        # counted again under the lock: every router holds it while assigning, so these counts are exact
        loads = agent_loads(list(got)) if recount else {}
        changed = len(got) < len(wanted)
        for pk, agent in got.items():
            load, capacity = loads.get(pk, states[pk].load), capacity_of(agent.capacity)
            changed = changed or load != states[pk].load or capacity != states[pk].capacity
            states[pk].load, states[pk].capacity = load, capacity
        if not changed:  # every planned agent is locked and as read: the plan stands
            return plans
    return plan_assignments(claimed=claimed, states=states, run=run, held=held, now=now)


def _pairs(plans: list[Plan], locked: dict[int, Agent]) -> list[tuple[Interaction, Agent]]:
    return [(p.interaction, locked[p.agent]) for p in plans if p.agent is not None and p.agent in locked]


def _route_batch(*, size: int, queue: Queue | None, run: Run) -> tuple[list[Interaction], bool]:
    """Claim up to ``size`` waiting interactions and assign those an agent can take, in one transaction.

    Returns (assigned interactions in serving order, whether anything was claimed).
    """
    with transaction.atomic():
        claimed, waiting = claim(size=size, queue=queue, run=run)
        if not claimed:
            return [], waiting
        run.load_skills(claimed)
        states = read_agents(skills=[run.required_skills[i.queue_id] for i in claimed])
        locked: dict[int, Agent] = {}
        held: set[int] = set()
        now = timezone.now()
        # One interaction (``route_next``): its agent's owned work is checked by the write itself, which saves a
        # statement. A batch counts again under the lock instead: with several routers at once, one of its many
        # planned agents has usually been given work since the read, and a failed write would cost a statement.
        check_in_write = len(claimed) == 1
        plans = _plan_and_lock(
            claimed=claimed, states=states, run=run, locked=locked, held=held, now=now, recount=not check_in_write
        )
        pairs = _pairs(plans, locked)
        # The claim holds every row, so each compare-and-set wins: the checked write fails only when the planned
        # agent's owned work is no longer as read (another router gave them work since), counted in the same
        # statement under the agent's lock. Then it is counted again under the lock and the work planned again.
        owned = {agent.pk: dict(states[agent.pk].load) for _, agent in pairs} if check_in_write else None
        assigned = interaction_assign_many(pairs=pairs, if_owned=owned)
        if check_in_write and pairs and not assigned:
            for pk, load in agent_loads(list(locked)).items():
                states[pk].load = load
            plans = _plan_and_lock(
                claimed=claimed, states=states, run=run, locked=locked, held=held, now=now, recount=True
            )
            pairs = _pairs(plans, locked)
            assigned = interaction_assign_many(pairs=pairs)
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
    would assign them one after another. Idempotent: with nothing waiting or nobody free it changes nothing.
    The periodic task and every trigger (work queued, agent available, work finished) call this.
    """
    if not Agent.objects.filter(status=AgentStatus.AVAILABLE, is_active=True).exists():
        return 0
    run = Run()
    routed = 0
    while routed < limit:
        assigned, claimed = _route_batch(size=min(BATCH, limit - routed), queue=None, run=run)
        routed += len(assigned)
        if not claimed:
            break
    if routed:
        logger.info("routing: assigned %d interaction(s)", routed)
    return routed
