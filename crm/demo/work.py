"""The demo planner's work: interactions simulated step by step (queue wait, the router's pick, handling, holds,
wrap-up, resolution, auto-close), their messages, events and follow-ups.

A mixin of ``crm.demo.plan.DemoPlanner``: it reads and fills the planner's state (``self.rng``, ``self.plan``…).
"""

import math
from datetime import datetime, timedelta

from agents.choices import AgentStatus
from config.choices import Channel
from contacts.choices import Tier
from crm.choices import InteractionEventKind as Kind
from crm.choices import InteractionStatus as S
from crm.choices import MessageDirection, Priority
from crm.demo import vocabulary as V
from crm.demo.shapes import (
    AUTO_CLOSE_AFTER,
    CHANNEL_MIX,
    DAY,
    FOLLOW_UP_RATE,
    HANDLING,
    MAX_MESSAGES,
    PRIORITY_MIX,
    REF_PREFIXES,
    EventPlan,
    InteractionPlan,
    MessagePlan,
    bisect_index,
    cumulative_weights,
    fill,
    pick,
    random_seconds,
    span_seconds,
    target_for,
)

from .schedule import (
    LIVE_CHANNELS,
    hour_slots,
    is_open,
    is_outage,
)


class WorkPlanner:
    def _interactions(self) -> None:
        rng = self.rng
        slots = hour_slots(start=self.start, now=self.now, outage_day=self.outage_day)
        cumulative = {
            live: cumulative_weights([slot.live_weight if live else slot.async_weight for slot in slots])
            for live in (True, False)
        }
        # when, and on which channel, each contact arrives; then simulated in arrival order
        arrivals = []
        for _ in range(self.n_interactions):
            channel = pick(rng, CHANNEL_MIX)
            cum = cumulative[channel in LIVE_CHANNELS]
            if not cum or cum[-1] <= 0:
                channel, cum = Channel.EMAIL, cumulative[False]
            slot = slots[min(len(slots) - 1, bisect_index(cum, rng.random() * cum[-1]))]
            arrivals.append((slot.start + timedelta(seconds=rng.uniform(0, slot.seconds - 1e-3)), channel))
        # a few contacts in the last hour and a half, whatever the volume: something is going on "now"
        for n in range(min(len(arrivals), max(3, self.n_interactions // 200))):
            at = self.now - timedelta(seconds=rng.uniform(1, 90 * 60))
            channel = arrivals[n][1]
            if channel in LIVE_CHANNELS and not is_open(at):
                channel = Channel.EMAIL
            arrivals[n] = (max(at, self.start), channel)
        arrivals.sort()

        pools = {
            "phone": [i for i, c in enumerate(self.customers) if c.phone],
            "email": [i for i, c in enumerate(self.customers) if c.email],
            "social": [i for i, c in enumerate(self.customers) if c.social],
            "any": list(range(len(self.customers))),
        }
        self.pools = {
            name: (members, cumulative_weights([self.customers[i].weight for i in members]))
            for name, members in pools.items()
        }
        recent_from = 0
        for index, (created_at, channel) in enumerate(arrivals):
            while recent_from < index and self.interactions[recent_from].created_at < created_at - 12 * DAY:
                recent_from += 1
            parent = self._follow_up_parent(created_at, channel, recent_from) if rng.random() < FOLLOW_UP_RATE else None
            if parent is None:
                pool = self._pool_for(channel)
                if pool is None:
                    channel, pool = Channel.CHAT, "any"
                members, cum = self.pools[pool]
                customer = members[bisect_index(cum, rng.random() * cum[-1])]
            else:
                customer = parent.customer
            ix, values = self._new_interaction(index, customer, channel, created_at, parent)
            self._simulate(ix, values)
            self.interactions.append(ix)

    def _new_interaction(
        self, index: int, customer_index: int, channel: str, at: datetime, parent: InteractionPlan | None
    ) -> tuple[InteractionPlan, dict]:
        """The contact's queue, topic, priority and subject, and the values its texts are filled with."""
        rng = self.rng
        customer = self.customers[customer_index]
        if parent is not None and self.eligible.get((parent.queue, channel)):
            queue_name = parent.queue
        else:
            queue_name = self._route(customer, channel, at)
        queue_spec = next(q for q in V.QUEUES if q.name == queue_name)
        if parent is not None:
            topic = parent.topic
        elif is_outage(at, self.outage_day) and queue_name in ("Technical Support", "Social & SMS", "VIP Care"):
            topic = "outage" if rng.random() < 0.7 else rng.choice(queue_spec.topics)
        else:
            topic = rng.choices(
                queue_spec.topics, weights=[1.0 / (1 + 0.25 * i) for i in range(len(queue_spec.topics))]
            )[0]
        priority = pick(rng, PRIORITY_MIX)
        if queue_name == "VIP Care" or topic == "complaint" or (topic == "outage" and rng.random() < 0.6):
            priority = max(priority, Priority.HIGH)
        if parent is not None and rng.random() < 0.3:
            priority = min(Priority.URGENT, max(priority, parent.priority) + 1)
        spec = V.TOPICS[topic]
        tags = list(spec.tags)
        if customer.tier == Tier.VIP:
            tags.append("vip")
        if parent is not None:
            tags.append("repeat-contact")
        ix = InteractionPlan(
            index=index,
            customer=customer_index,
            channel=channel,
            queue=queue_name,
            topic=topic,
            priority=priority,
            created_at=at,
            category=spec.category,
            tags=tags,
            follow_up_of=parent.index if parent is not None else None,
        )
        values = {
            "first": customer.first_name,
            "agent": "the agent",
            "ref": f"{REF_PREFIXES.get(spec.category, 'REF')}-{rng.randint(100000, 999999)}",
            "amount": ("$" if customer.language == "en" else "€") + f"{rng.uniform(9, 480):.2f}",
            "category": spec.category,
            "queue": queue_name,
        }
        if parent is not None and channel == Channel.EMAIL and parent.subject:
            ix.subject = parent.subject if parent.subject.startswith("Re: ") else f"Re: {parent.subject}"
        else:
            ix.subject = fill(rng.choice(spec.subjects), values)
        return ix, values

    def _simulate(self, ix: InteractionPlan, values: dict) -> None:
        """Play the interaction's life from arrival to auto-close, then keep what happened before ``now``."""
        rng = self.rng
        how = HANDLING[ix.channel]
        queue_spec = next(q for q in V.QUEUES if q.name == ix.queue)
        target = target_for(queue_spec.policy, ix.channel, ix.priority)
        queued = ix.created_at
        ix.first_response_due_at = queued + timedelta(seconds=target.first_response)
        if target.resolution:
            ix.resolution_due_at = queued + timedelta(seconds=target.resolution)
        events = [
            EventPlan(Kind.CREATED, "", S.NEW, ix.created_at),
            EventPlan(Kind.QUEUED, S.NEW, S.QUEUED, queued),
        ]
        messages: list[MessagePlan] = []
        spec = V.TOPICS[ix.topic]
        if ix.channel == Channel.VOICE:
            messages.append(MessagePlan(MessageDirection.INTERNAL, False, fill(V.IVR_NOTE, values), queued))
        else:
            messages.append(
                MessagePlan(MessageDirection.INBOUND, False, fill(rng.choice(spec.openings), values), queued)
            )

        accept_lag = random_seconds(rng, how.accept_lag)
        respond_lag = random_seconds(rng, how.respond_lag)
        # the first answer, from arrival: most within the target, the rest late by a long tail
        if rng.random() < how.sla_met_rate:
            first_delay = target.first_response * rng.triangular(0.05, 0.98, 0.3)
        else:
            first_delay = target.first_response * (1 + rng.expovariate(1 / 0.6))
        first_delay = max(first_delay, accept_lag + respond_lag + 1)
        desired = queued + timedelta(seconds=first_delay - accept_lag - respond_lag)
        talk_work = round(min(how.talk_median * 4, rng.lognormvariate(math.log(how.talk_median), how.talk_sigma)))
        talk_work = max(talk_work, respond_lag + 30)
        pending = round(rng.uniform(1, 6) * 3600) if rng.random() < how.pending_rate else 0
        hold = random_seconds(rng, how.hold) if rng.random() < how.hold_rate else 0
        wrap = random_seconds(rng, how.wrap)
        work_seconds = accept_lag + talk_work + hold + wrap
        owned_seconds = work_seconds + pending

        patience = random_seconds(rng, how.patience)
        gives_up = rng.random() < how.abandon_rate
        routed = None if gives_up else self._assign(ix, desired, work_seconds, owned_seconds)
        if routed is not None and patience and (routed[1] - queued).total_seconds() > patience:
            routed = None
        if routed is None:
            if gives_up:
                # an early hang-up, or a message withdrawn ("never mind, found it")
                patience = rng.randint(5, max(6, patience // 2)) if patience else rng.randint(600, 7200)
            if patience:
                abandoned = queued + timedelta(seconds=patience)
            elif ix.created_at > self.now - DAY:
                # nobody at work before ``now``: it is still waiting for the next shift
                abandoned = self.now + DAY
            else:
                abandoned = queued + timedelta(hours=2)
            events.append(EventPlan(Kind.ABANDONED, S.QUEUED, S.ABANDONED, abandoned))
            if ix.channel == Channel.VOICE:
                waited = round((abandoned - queued).total_seconds())
                note = fill(V.ABANDON_NOTE, {**values, "seconds": waited})
                messages.append(MessagePlan(MessageDirection.INTERNAL, False, note, abandoned))
            self._finish(ix, events, messages)
            return

        agent, assigned = routed
        values["agent"] = agent.first_name
        accepted = assigned + timedelta(seconds=accept_lag)
        first_response = accepted + timedelta(seconds=respond_lag)
        events += [
            EventPlan(Kind.ASSIGNED, S.QUEUED, S.ASSIGNED, assigned, with_agent=True),
            EventPlan(Kind.ACCEPTED, S.ASSIGNED, S.ACTIVE, accepted, by_agent=True, with_agent=True),
            EventPlan(Kind.FIRST_RESPONSE, S.ACTIVE, S.ACTIVE, first_response, by_agent=True, with_agent=True),
        ]
        active_since = accepted
        if hold:
            hold_start = max(
                first_response + timedelta(seconds=1), accepted + timedelta(seconds=talk_work * rng.uniform(0.3, 0.7))
            )
            hold_end = hold_start + timedelta(seconds=hold)
            events += [
                EventPlan(
                    Kind.HELD,
                    S.ACTIVE,
                    S.ON_HOLD,
                    hold_start,
                    True,
                    True,
                    {"talk_seconds": span_seconds(active_since, hold_start)},
                ),
                EventPlan(Kind.RESUMED, S.ON_HOLD, S.ACTIVE, hold_end, True, True, {"hold_seconds": hold}),
            ]
            active_since = hold_end
        work_end = accepted + timedelta(seconds=talk_work + hold)
        wrap_start = work_end + timedelta(seconds=pending)
        resolved = wrap_start + timedelta(seconds=wrap)
        closed = resolved + timedelta(seconds=rng.uniform(*(d.total_seconds() for d in AUTO_CLOSE_AFTER)))
        disposition = rng.choices(spec.dispositions, weights=[6] + [2] * (len(spec.dispositions) - 1))[0]
        events += [
            EventPlan(
                Kind.WRAP_UP,
                S.ACTIVE,
                S.WRAP_UP,
                wrap_start,
                True,
                True,
                {"talk_seconds": span_seconds(active_since, wrap_start)},
            ),
            EventPlan(
                Kind.RESOLVED,
                S.WRAP_UP,
                S.RESOLVED,
                resolved,
                True,
                True,
                {"wrap_up_seconds": wrap, "disposition": disposition},
            ),
            EventPlan(Kind.CLOSED, S.RESOLVED, S.CLOSED, closed, with_agent=True, data={"reason": "auto-close"}),
        ]
        ix.agent = agent.index
        ix.disposition = disposition
        ix.resolved_full = resolved
        ix.sla_met = first_response <= ix.first_response_due_at and (
            ix.resolution_due_at is None or resolved <= ix.resolution_due_at
        )
        # the agent's presence: busy while working it, wrap-up after; the owned span counts against capacity
        busy_from = assigned if ix.channel in LIVE_CHANNELS else accepted
        agent.work.append((busy_from, work_end, AgentStatus.BUSY))
        agent.work.append((wrap_start, resolved, AgentStatus.WRAP_UP))
        agent.owned.setdefault(ix.channel, []).append((assigned, resolved))
        agent.idle_since = max(agent.idle_since or resolved, resolved)

        messages += self._conversation(ix, spec, values, first_response, work_end, wrap_start, pending)
        self._finish(ix, events, messages, disposition=disposition)

    def _conversation(self, ix, spec, values, first_response, work_end, wrap_start, pending) -> list[MessagePlan]:
        """The agent's side and the rest of the exchange (with the opening, at most ``MAX_MESSAGES``)."""
        rng = self.rng
        how = HANDLING[ix.channel]
        if ix.channel == Channel.VOICE:
            note = fill(rng.choice(V.CALL_NOTES), values)
            return [MessagePlan(MessageDirection.INTERNAL, True, note, wrap_start + timedelta(seconds=2))]
        messages = [
            MessagePlan(MessageDirection.OUTBOUND, True, fill(rng.choice(spec.replies), values), first_response)
        ]
        pairs = rng.randint(*how.exchanges) + (1 if pending else 0)
        end = wrap_start if pending else work_end
        span = max(1.0, (end - first_response).total_seconds())
        for n in range(min(pairs, 2)):
            asked = first_response + timedelta(seconds=span * (2 * n + 1) / (2 * pairs + 1))
            answered = first_response + timedelta(seconds=span * (2 * n + 2) / (2 * pairs + 1))
            messages.append(
                MessagePlan(MessageDirection.INBOUND, False, fill(rng.choice(V.CUSTOMER_FOLLOW_UPS), values), asked)
            )
            messages.append(
                MessagePlan(MessageDirection.OUTBOUND, True, fill(rng.choice(V.AGENT_FOLLOW_UPS), values), answered)
            )
        if len(messages) < MAX_MESSAGES - 1 and rng.random() < 0.15:  # the customer's opening is the other one
            messages.append(MessagePlan(MessageDirection.INTERNAL, True, rng.choice(V.INTERNAL_NOTES), wrap_start))
        return messages

    def _finish(
        self, ix: InteractionPlan, events: list[EventPlan], messages: list[MessagePlan], disposition: str = ""
    ) -> None:
        """Keep what happened up to ``now``: status, step timestamps and handle-time parts follow from it."""
        stamp_of = {
            Kind.QUEUED: "queued_at",
            Kind.ASSIGNED: "assigned_at",
            Kind.ACCEPTED: "accepted_at",
            Kind.FIRST_RESPONSE: "first_response_at",
            Kind.RESOLVED: "resolved_at",
            Kind.CLOSED: "closed_at",
            Kind.ABANDONED: "abandoned_at",
        }
        ix.events = [e for e in events if e.at <= self.now]
        ix.messages = [m for m in messages if m.at <= self.now]
        for event in ix.events:
            ix.status = event.to_status
            if event.kind in stamp_of:
                ix.stamps[stamp_of[event.kind]] = event.at
            ix.talk_seconds += event.data.get("talk_seconds", 0)
            ix.hold_seconds += event.data.get("hold_seconds", 0)
            ix.wrap_up_seconds += event.data.get("wrap_up_seconds", 0)
        if "assigned_at" not in ix.stamps:
            ix.agent = None
        if "resolved_at" not in ix.stamps:
            ix.disposition = ""
        else:
            ix.disposition = disposition
        ix.updated_at = max([ix.created_at, *(e.at for e in ix.events), *(m.at for m in ix.messages)])
