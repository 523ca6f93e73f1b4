"""Picking, for each claimed interaction in serving order, the best agent (``plan_assignments``): the router's
plan, made from the agents as ``crm.routing.services.planner`` read them, before their rows are locked."""

import heapq
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from crm.interactions.models import Interaction

from .planner import AgentState, Run


@dataclass
class Plan:
    """Who gets what, in serving order; ``agent`` None: nobody free (``routable`` False) or everyone held."""

    interaction: Interaction
    agent: int | None
    routable: bool


def plan_assignments(
    *, claimed: list[Interaction], states: dict[int, AgentState], run: Run, held: set[int], now: datetime
) -> list[Plan]:
    """Give each claimed interaction, in order, the best agent as the single-step router would.

    Best: every required skill at its level, room on the channel (an owned voice call blocks all), then
    the highest total level in the queue's skills, then the longest idle. Each pick counts against the
    agent's room and makes them idle since just after ``now``, as the assignment will, so a batch spreads its work
    round-robin exactly like one assignment after another. Agents in ``held`` (locked by another router)
    could take the work but not now: interactions that only they could take are left for later.

    Per queue, the qualified agents are kept in one heap per total level, by how long they have been idle, so a
    pick looks at the agents at the top rather than at every agent of the best total.
    """
    planned: dict[int, Counter] = {}
    idle: dict[int, datetime] = {}
    no_work: Counter = Counter()
    heaps_of: dict[int, list[list[tuple[tuple, AgentState]]]] = {}
    plans = []

    def idle_key(state: AgentState) -> tuple:
        # idle longest first (never assigned nor changed status: first of all), then id
        since = idle.get(state.pk, state.idle_since)
        return (since is not None, since or now, state.pk)

    for interaction in claimed:
        if interaction.queue_id not in heaps_of:
            heaps_of[interaction.queue_id] = _heaps_by_total(
                states, run.required_skills[interaction.queue_id], idle_key
            )
        best, routable = None, False
        for heap in heaps_of[interaction.queue_id]:  # highest total first
            set_aside = []
            while heap:
                key, state = heap[0]
                current = idle_key(state)
                if key != current:  # picked since it was placed (a key only grows): back to its place now
                    heapq.heapreplace(heap, (current, state))
                    continue
                if not state.room(interaction.channel, planned.get(state.pk, no_work)):
                    set_aside.append(heapq.heappop(heap))
                    continue
                routable = True
                if state.pk in held:
                    set_aside.append(heapq.heappop(heap))
                    continue
                best = state
                break
            for entry in set_aside:
                heapq.heappush(heap, entry)
            if best is not None:
                break
        if best is not None:
            planned.setdefault(best.pk, Counter())[interaction.channel] += 1
            # one after another, as the assignments' own times will be: the earliest picked is idle longest
            idle[best.pk] = now + timedelta(microseconds=len(idle) + len(plans))
        plans.append(Plan(interaction=interaction, agent=best.pk if best else None, routable=routable))
    return plans


def _heaps_by_total(states: dict[int, AgentState], skills: list[tuple[int, int]], idle_key) -> list[list]:
    """The agents qualified for a queue's skills, one heap of ``(idle_key(agent), agent)`` per total level in those
    skills, the highest total first."""
    skill_ids = {skill_id for skill_id, _ in skills}
    by_total: dict[int, list] = {}
    for state in states.values():
        if state.qualified(skills):
            total = sum(level for skill_id, level in state.levels.items() if skill_id in skill_ids)
            by_total.setdefault(total, []).append((idle_key(state), state))
    heaps = [by_total[total] for total in sorted(by_total, reverse=True)]
    for heap in heaps:
        heapq.heapify(heap)
    return heaps
