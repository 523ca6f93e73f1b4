"""``plan_assignments`` against the rule it implements, written out the slow way: for each claimed interaction in
order, of the agents qualified for its queue with room on its channel and not held, the highest total level in the
queue's skills, then idle longest (never assigned first), then the lowest id; each pick fills the agent's room and
makes them idle just after ``now``. Random agents, loads, capacities, holds and work (no database needed)."""

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from crm.interactions.models import Interaction
from crm.routing.services.picking import plan_assignments
from crm.routing.services.planner import AgentState, Run

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
CHANNELS = ["chat", "email", "sms", "voice"]


def reference(claimed, states, run, held):
    planned: dict[int, Counter] = {}
    idle: dict[int, datetime] = {}
    out = []
    for interaction in claimed:
        skills = run.required_skills[interaction.queue_id]
        candidates, routable = [], False
        for state in states.values():
            if not state.qualified(skills):
                continue
            mine = planned.get(state.pk, Counter())
            if state.load["voice"] + mine["voice"]:
                continue
            if state.load[interaction.channel] + mine[interaction.channel] >= state.capacity.get(
                interaction.channel, 0
            ):
                continue
            routable = True
            if state.pk in held:
                continue
            total = sum(level for skill, level in state.levels.items() if skill in {s for s, _ in skills})
            since = idle.get(state.pk, state.idle_since)
            candidates.append(((-total, since is not None, since or NOW, state.pk), state))
        best = min(candidates, key=lambda pair: pair[0])[1] if candidates else None
        if best is not None:
            planned.setdefault(best.pk, Counter())[interaction.channel] += 1
            idle[best.pk] = NOW + timedelta(microseconds=len(idle) + len(out))
        out.append((interaction.pk, best.pk if best else None, routable))
    return out


def random_case(seed: int):
    rng = random.Random(seed)
    skills = list(range(1, 6))
    queues = {q: [(s, rng.randint(1, 3)) for s in rng.sample(skills, rng.randint(0, 2))] for q in range(1, 5)}
    states = {}
    for pk in range(1, rng.randint(2, 30)):
        states[pk] = AgentState(
            pk=pk,
            capacity={c: rng.randint(0, 3) for c in CHANNELS if rng.random() < 0.8},
            idle_since=rng.choice([None, NOW - timedelta(minutes=rng.randint(0, 5))]),  # ties on purpose
            levels={s: rng.randint(1, 5) for s in skills if rng.random() < 0.7},
            load=Counter({c: rng.randint(0, 2) for c in CHANNELS if rng.random() < (0.05 if c == "voice" else 0.4)}),
        )
    held = {pk for pk in states if rng.random() < 0.2}
    claimed = [
        Interaction(pk=n, queue_id=rng.choice(list(queues)), channel=rng.choice(CHANNELS))
        for n in range(1, rng.randint(1, 60))
    ]
    return claimed, states, queues, held


SEEDS = range(40)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_plan_is_the_rule_applied_one_interaction_after_another(seed):
    claimed, states, queues, held = random_case(seed)

    plans = plan_assignments(claimed=claimed, states=states, run=Run(required_skills=queues), held=held, now=NOW)

    got = [(plan.interaction.pk, plan.agent, plan.routable) for plan in plans]
    assert got == reference(claimed, states, Run(required_skills=queues), held)


def test_the_random_cases_assign_meet_held_agents_and_run_out_of_room():
    """The comparison above is worth something only if its cases pick agents, leave work that only held agents
    could take, and leave work nobody can take."""
    outcomes = Counter()
    for seed in SEEDS:
        claimed, states, queues, held = random_case(seed)
        for _, agent, routable in reference(claimed, states, Run(required_skills=queues), held):
            outcomes["assigned" if agent else "only held agents" if routable else "nobody"] += 1
    assert outcomes["assigned"] > 100 and outcomes["only held agents"] > 5 and outcomes["nobody"] > 50, outcomes


def test_a_pick_fills_the_best_agent_then_the_next_best_takes_the_rest():
    skill = [(1, 1)]
    states = {
        1: AgentState(pk=1, capacity={"chat": 1}, idle_since=None, levels={1: 5}),
        2: AgentState(pk=2, capacity={"chat": 5}, idle_since=NOW, levels={1: 5}),
        3: AgentState(pk=3, capacity={"chat": 5}, idle_since=None, levels={1: 1}),
        4: AgentState(pk=4, capacity={"chat": 5}, idle_since=NOW - timedelta(minutes=1), levels={1: 1}),
    }
    claimed = [Interaction(pk=n, queue_id=1, channel="chat") for n in range(1, 6)] + [
        Interaction(pk=9, queue_id=1, channel="email")
    ]
    plans = plan_assignments(claimed=claimed, states=states, run=Run(required_skills={1: skill}), held={2}, now=NOW)

    # 1 (best level, never assigned) takes the first and is full; 2 is held; of the lower level, 3 (never assigned)
    # then 4 (idle a minute) then round-robin; nobody takes e-mail
    assert [plan.agent for plan in plans] == [1, 3, 4, 3, 4, None]
    assert plans[-1].routable is False
