"""The demo planner's choices for each interaction: which channel pool a customer uses, which earlier contact it
follows up, which queue it lands in, and the agent the router would pick (skills, room, longest idle).

A mixin of ``crm.demo.plan.DemoPlanner``: it reads and fills the planner's state (``self.rng``, ``self.plan``…).
"""

from datetime import datetime, timedelta

from config.choices import Channel
from contacts.choices import Tier
from crm.demo import vocabulary as V
from crm.demo.shapes import (
    ADDRESS_FOR_CHANNEL,
    FOLLOW_UP_WINDOW,
    GENERAL_QUEUES,
    MAX_ROUTING_STEPS,
    OUTAGE_QUEUES,
    ROUTING_STEP,
    AgentPlan,
    CustomerPlan,
    InteractionPlan,
    pick,
)

from .schedule import (
    is_outage,
)


class ChoosingPlanner:
    def _pool_for(self, channel: str) -> str | None:
        pool = ADDRESS_FOR_CHANNEL.get(channel, "any")
        return pool if self.pools[pool][0] else None

    def _can_use(self, customer: CustomerPlan, channel: str) -> bool:
        return channel not in ADDRESS_FOR_CHANNEL or bool(getattr(customer, ADDRESS_FOR_CHANNEL[channel]))

    def _follow_up_parent(self, at: datetime, channel: str, recent_from: int) -> InteractionPlan | None:
        if recent_from >= len(self.interactions):
            return None
        for _ in range(8):
            candidate = self.interactions[self.rng.randrange(recent_from, len(self.interactions))]
            resolved = candidate.resolved_full
            if (
                resolved is not None
                and resolved <= at <= resolved + FOLLOW_UP_WINDOW
                and self._can_use(self.customers[candidate.customer], channel)
            ):
                return candidate
        return None

    def _route(self, customer: CustomerPlan, channel: str, at: datetime) -> str:
        rng = self.rng
        if customer.tier == Tier.VIP or (customer.tier == Tier.GOLD and rng.random() < 0.5):
            choice = "VIP Care"
        elif channel in (Channel.SMS, Channel.SOCIAL):
            choice = "Social & SMS"
        elif customer.language == "es" and rng.random() < 0.85:
            choice = "Soporte en español"
        else:
            choice = pick(rng, OUTAGE_QUEUES if is_outage(at, self.outage_day) else GENERAL_QUEUES)
        if self.eligible.get((choice, channel)):
            return choice
        # nobody can serve this channel there: the first queue of the channel that somebody can serve
        return next(q.name for q in V.QUEUES if self.eligible.get((q.name, channel)))

    def _assign(
        self, ix: InteractionPlan, desired: datetime, work_seconds: int, owned_seconds: int
    ) -> tuple[AgentPlan, datetime] | None:
        """The agent the router would give it to, and when: the first moment somebody eligible is free.

        Free means at work, not going on a break while working it (``work_seconds``) and with a slot on
        the channel for as long as it stays theirs (``owned_seconds``, which includes waiting on the customer).
        """
        eligible = self.eligible[(ix.queue, ix.channel)]
        at = desired
        for _ in range(MAX_ROUTING_STEPS):
            options = [(free, agent) for agent in eligible if (free := agent.roster.next_free(at)) is not None]
            if not options:
                return None
            earliest = min(free for free, _ in options)
            work_end = earliest + timedelta(seconds=work_seconds)
            end = earliest + timedelta(seconds=owned_seconds)
            # longest idle first
            ready = sorted(
                (agent for free, agent in options if free == earliest),
                key=lambda a: (a.idle_since or self.start, a.index),
            )
            for agent in ready:
                if not agent.roster.overlaps_break(earliest, work_end) and self._has_capacity(agent, ix, earliest, end):
                    return agent, earliest
            at = earliest + ROUTING_STEP
        return None

    def _has_capacity(self, agent: AgentPlan, ix: InteractionPlan, begin: datetime, end: datetime) -> bool:
        owned = agent.owned.get(ix.channel, [])
        # nothing assigned from now on starts before this contact arrived: forget what ended earlier
        owned[:] = [span for span in owned if span[1] > ix.created_at]
        overlapping = sum(1 for b, e in owned if b < end and begin < e)
        return overlapping < agent.capacity.get(ix.channel, 0)
