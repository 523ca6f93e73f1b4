"""The demo center's history, drawn in memory before anything is written.

Everything comes from one ``random.Random(seed)`` (Faker seeded from it) and the reference time ``now``,
so the same options give the same center. Each interaction is simulated step by step: a queue wait
calibrated on its SLA target, then the agent the router would pick (the queue's skills, spare capacity
on the channel, at work and not on a break, longest idle first), handling with holds, wrap-up,
resolution and auto-close. The simulation is then cut at ``now``: steps in the future have not
happened yet, so the last hours hold queued, assigned and active work.
"""

import math
import random
import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from faker import Faker

from agents.choices import AgentStatus
from config.choices import Channel
from contacts.choices import Tier

from ..choices import InteractionEventKind as Kind
from ..choices import InteractionStatus as S
from ..choices import MessageDirection, Priority, SurveyKind
from . import vocabulary as V
from .schedule import (
    LIVE_CHANNELS,
    Roster,
    StatusChange,
    build_roster,
    hour_slots,
    is_open,
    is_outage,
    presence_log,
)

DAY = timedelta(days=1)
FOLLOW_UP_RATE = 0.15
FOLLOW_UP_WINDOW = timedelta(days=7)
AUTO_CLOSE_AFTER = (timedelta(hours=48), timedelta(hours=72))
ROUTING_STEP = timedelta(seconds=60)
MAX_ROUTING_STEPS = 240
SURVEY_RATE, NPS_SHARE, SURVEY_ANSWER_RATE = 0.5, 0.2, 0.32
SURVEY_DELAY = timedelta(minutes=10)
SURVEY_FREQUENCY_CAP = timedelta(days=7)
NOTE_RATE = 0.12
MAX_MESSAGES = 6
ORG_CUSTOMER_SHARE = 0.3

CHANNEL_MIX = {Channel.VOICE: 0.34, Channel.EMAIL: 0.26, Channel.CHAT: 0.25, Channel.SMS: 0.08, Channel.SOCIAL: 0.07}
PRIORITY_MIX = {Priority.LOW: 0.10, Priority.NORMAL: 0.68, Priority.HIGH: 0.17, Priority.URGENT: 0.05}
TIER_MIX = {Tier.STANDARD: 0.75, Tier.SILVER: 0.15, Tier.GOLD: 0.07, Tier.VIP: 0.03}
ORG_TIER_MIX = {Tier.STANDARD: 0.5, Tier.SILVER: 0.3, Tier.GOLD: 0.15, Tier.VIP: 0.05}
LANGUAGE_MIX = {"en": 0.70, "es": 0.15, "fr": 0.08, "de": 0.07}
FAKER_LOCALES = {"en": "en_US", "es": "es_MX", "fr": "fr_FR", "de": "de_DE"}
TIMEZONES = {
    "en": {"America/New_York": 0.4, "America/Chicago": 0.25, "America/Denver": 0.1, "America/Los_Angeles": 0.25},
    "es": {"America/Los_Angeles": 0.3, "America/New_York": 0.2, "America/Chicago": 0.1, "Europe/Madrid": 0.4},
    "fr": {"Europe/Paris": 1.0},
    "de": {"Europe/Berlin": 1.0},
}
# Where the fictitious phone numbers come from; Madrid-based customers write rather than call.
COUNTRY_OF_ZONE = {"Europe/Paris": "FR", "Europe/Berlin": "DE"}
# The customer's address a channel reaches them by (chat needs none: the visitor opens the widget).
ADDRESS_FOR_CHANNEL = {Channel.VOICE: "phone", Channel.SMS: "phone", Channel.EMAIL: "email", Channel.SOCIAL: "social"}
GENERAL_QUEUES = {"Billing": 0.35, "Technical Support": 0.40, "Sales": 0.25}
OUTAGE_QUEUES = {"Billing": 0.15, "Technical Support": 0.75, "Sales": 0.10}
REF_PREFIXES = {
    "Invoice question": "INV",
    "Payment failed": "INV",
    "Refund request": "INV",
    "Quote request": "Q",
    "Order status": "ORD",
    "Bug report": "TCK",
}
CSAT_GOOD = {5: 55, 4: 30, 3: 9, 2: 4, 1: 2}
CSAT_BAD = {5: 20, 4: 28, 3: 22, 2: 15, 1: 15}


@dataclass(frozen=True)
class Handling:
    """How a channel's contacts are handled: lags, handle-time shape, and how customers give up."""

    accept_lag: tuple[int, int]  # offered → accepted
    respond_lag: tuple[int, int]  # accepted → first answer (0: answering the call is the response)
    talk_median: int
    talk_sigma: float
    hold_rate: float
    hold: tuple[int, int]
    wrap: tuple[int, int]
    sla_met_rate: float
    abandon_rate: float
    patience: tuple[int, int]  # how long a caller waits before hanging up (messages wait: (0, 0))
    pending_rate: float  # waits for the customer or another team before it can be resolved
    exchanges: tuple[int, int]  # further customer/agent message pairs


HANDLING = {
    Channel.VOICE: Handling((2, 8), (0, 0), 300, 0.5, 0.3, (20, 180), (30, 120), 0.82, 0.04, (45, 300), 0, (0, 0)),
    Channel.CHAT: Handling((2, 10), (10, 40), 540, 0.45, 0.08, (30, 120), (20, 90), 0.88, 0.04, (90, 600), 0, (0, 2)),
    Channel.EMAIL: Handling((5, 120), (180, 900), 360, 0.6, 0, (0, 0), (20, 90), 0.9, 0, (0, 0), 0.04, (0, 1)),
    Channel.SMS: Handling((5, 60), (30, 240), 240, 0.5, 0, (0, 0), (10, 45), 0.9, 0.01, (0, 0), 0.03, (0, 1)),
    Channel.SOCIAL: Handling((5, 60), (60, 300), 300, 0.5, 0, (0, 0), (10, 45), 0.88, 0.02, (0, 0), 0.03, (0, 1)),
}


# --- what the plan holds -----------------------------------------------------------------------------


@dataclass
class PersonPlan:
    username: str
    first_name: str
    last_name: str
    team: str = ""

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass
class AgentPlan(PersonPlan):
    index: int = 0
    capacity: dict[str, int] = field(default_factory=dict)
    skills: dict[str, int] = field(default_factory=dict)
    roster: Roster = field(default_factory=Roster)
    # per channel: (owned from, owned until) of the contacts assigned so far, for the capacity check
    owned: dict[str, list[tuple[datetime, datetime]]] = field(default_factory=dict)
    idle_since: datetime | None = None
    work: list[tuple[datetime, datetime, str]] = field(default_factory=list)
    log: list[StatusChange] = field(default_factory=list)


@dataclass
class CustomerPlan:
    first_name: str
    last_name: str
    language: str
    timezone: str
    tier: str
    tags: list[str]
    attributes: dict
    survey_opt_out: bool
    marketing_consent: bool
    created_at: datetime
    organization: int | None
    weight: float
    email: str = ""
    phone: str = ""
    social: str = ""

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass
class EventPlan:
    kind: str
    from_status: str
    to_status: str
    at: datetime
    by_agent: bool = False  # the agent's user is the actor
    with_agent: bool = False  # the event names the agent
    data: dict = field(default_factory=dict)


@dataclass
class MessagePlan:
    direction: str
    by_agent: bool
    body: str
    at: datetime


@dataclass
class InteractionPlan:
    index: int
    customer: int
    channel: str
    queue: str
    topic: str
    priority: int
    created_at: datetime
    subject: str = ""
    category: str = ""
    tags: list[str] = field(default_factory=list)
    follow_up_of: int | None = None
    agent: int | None = None
    status: str = S.NEW
    disposition: str = ""
    stamps: dict[str, datetime] = field(default_factory=dict)
    first_response_due_at: datetime | None = None
    resolution_due_at: datetime | None = None
    talk_seconds: int = 0
    hold_seconds: int = 0
    wrap_up_seconds: int = 0
    updated_at: datetime | None = None
    events: list[EventPlan] = field(default_factory=list)
    messages: list[MessagePlan] = field(default_factory=list)
    resolved_full: datetime | None = None  # when it is (or will be) resolved, ignoring ``now``
    sla_met: bool = True


@dataclass
class SurveyPlan:
    interaction: int
    kind: str
    sent_at: datetime
    score: int | None = None
    comment: str = ""
    answered_at: datetime | None = None


@dataclass
class NotePlan:
    customer: int
    author: str  # username
    body: str
    created_at: datetime


@dataclass
class DemoPlan:
    now: datetime
    start: datetime
    admin: PersonPlan
    supervisors: list[PersonPlan]
    agents: list[AgentPlan]
    organizations: list[tuple[str, str]]
    customers: list[CustomerPlan]
    interactions: list[InteractionPlan]
    surveys: list[SurveyPlan]
    notes: list[NotePlan]


# --- helpers -------------------------------------------------------------------------------------------


def _pick(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _ascii_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "", folded)


def _seconds(rng: random.Random, bounds: tuple[int, int]) -> int:
    return rng.randint(*bounds) if bounds[1] else 0


def _fill(text: str, values: dict) -> str:
    return text.format_map(values)


def target_for(policy: str, channel: str, priority: int) -> V.Target:
    """The SLA target the demo's policies give (same rule as ``crm.services.sla``: most specific row wins)."""
    spec = next(p for p in V.POLICIES if p.name == policy)
    factor = spec.factor * V.PRIORITY_FACTORS.get(priority, 1.0)
    base = V.BASE_TARGETS[channel]
    return V.Target(
        V.scaled(base.first_response, factor), V.scaled(base.next_response, factor), V.scaled(base.resolution, factor)
    )


def phone_numbers(rng: random.Random) -> dict[str, list[str]]:
    """Fictitious numbers that ``phonenumbers`` accepts as valid: US 555-01xx, French 01 99 00, Berlin 030 23125."""
    us_area_codes = (201, 206, 212, 213, 214, 215, 303, 305, 310, 312, 313, 404, 415, 425, 469, 480, 503, 512)
    us_area_codes += (602, 615, 617, 619, 646, 702, 704, 713, 718, 720, 773, 786, 801, 804, 808, 813, 818, 917)
    pools = {
        "US": [f"+1{area}55501{n:02d}" for area in us_area_codes for n in range(100)],
        "FR": [f"+3319900{n:04d}" for n in range(10000)],
        "DE": [f"+493023125{n:03d}" for n in range(1000)],
    }
    for numbers in pools.values():
        rng.shuffle(numbers)
    return pools


# --- the planner ---------------------------------------------------------------------------------------


class DemoPlanner:
    """Draws a whole center; ``plan()`` returns it."""

    def __init__(self, *, seed: int, now: datetime, days: int, customers: int, interactions: int):
        self.rng = random.Random(seed)  # noqa: S311  (reproducible demo data, not secrets)
        self.now = now
        self.start = now - days * DAY
        self.n_customers = customers
        self.n_interactions = interactions
        self.fakers = {}
        for language, locale in FAKER_LOCALES.items():
            fake = Faker(locale)
            fake.seed_instance(self.rng.getrandbits(32))
            self.fakers[language] = fake
        # a weekday morning in the middle of the period, if the period is long enough to have one
        self.outage_day: date | None = None
        if days >= 7:
            day = (self.start + (days // 2) * DAY).date()
            while day.weekday() > 4:
                day += DAY
            self.outage_day = day

    def plan(self) -> DemoPlan:
        admin = PersonPlan("admin", "Demo", "Admin")
        supervisors = [PersonPlan(team.supervisor, *self._person_name("en"), team=team.name) for team in V.TEAMS]
        self.agents = self._agents()
        organizations = self._organizations()
        self.org_domains = [domain for _, domain in organizations]
        self.customers = self._customers(len(organizations))
        self.interactions: list[InteractionPlan] = []
        self._interactions()
        for agent in self.agents:
            agent.log = presence_log(roster=agent.roster, work=agent.work, now=self.now)
        return DemoPlan(
            now=self.now,
            start=self.start,
            admin=admin,
            supervisors=supervisors,
            agents=self.agents,
            organizations=organizations,
            customers=self.customers,
            interactions=self.interactions,
            surveys=self._surveys(),
            notes=self._notes([p.username for p in supervisors] + [a.username for a in self.agents]),
        )

    # --- people ---

    def _person_name(self, language: str) -> tuple[str, str]:
        fake = self.fakers[language]
        return fake.first_name(), fake.last_name()

    def _agents(self) -> list[AgentPlan]:
        rng = self.rng
        agents = []
        for index in range(len(V.TEAMS) * V.AGENTS_PER_TEAM):
            team = V.TEAMS[index // V.AGENTS_PER_TEAM]
            senior = index % V.AGENTS_PER_TEAM < 4  # four seniors per team: VIP Care needs English 4
            skills = {team.skill: rng.randint(4, 5) if senior else rng.randint(2, 4)}
            skills["English"] = rng.randint(4, 5) if senior else rng.randint(3, 5)
            for other in V.TEAMS:
                if other.skill not in skills and rng.random() < 0.3:
                    skills[other.skill] = rng.randint(1, 2)
            language = "en"
            # two Spanish speakers per team, one on each shift; a few French and German speakers
            if index % 10 in (1, 4):
                skills["Spanish"], language = rng.randint(3, 5), "es"
            elif index % 10 == 6:
                skills["French"], language = rng.randint(3, 5), "fr"
            elif index % 10 == 7:
                skills["German"], language = rng.randint(3, 5), "de"
            capacity = {Channel.VOICE: 1, Channel.CHAT: rng.randint(2, 3), Channel.EMAIL: rng.randint(4, 6)}
            if team.name == "Technical Support" or index % 3 == 0:
                capacity[Channel.SMS] = rng.randint(2, 4)
                capacity[Channel.SOCIAL] = rng.randint(2, 3)
            first, last = self._person_name(language)
            agents.append(
                AgentPlan(
                    username=f"agent{index + 1}",
                    first_name=first,
                    last_name=last,
                    team=team.name,
                    index=index,
                    capacity=capacity,
                    skills=skills,
                    roster=build_roster(rng=rng, index=index, start=self.start, now=self.now),
                )
            )
        self.eligible = {
            (queue.name, channel): [
                agent
                for agent in agents
                if agent.capacity.get(channel, 0) > 0
                and all(agent.skills.get(skill, 0) >= level for skill, level in queue.skills)
            ]
            for queue in V.QUEUES
            for channel in queue.channels
        }
        return agents

    def _organizations(self) -> list[tuple[str, str]]:
        count = min(50, max(1, self.n_customers // 40))
        names: dict[str, tuple[str, str]] = {}
        fake = self.fakers["en"]
        for _ in range(count * 100):  # Faker has thousands of company names; the bound only guards the loop
            if len(names) == count:
                break
            name = fake.company()
            slug = re.sub(r"-+", "-", re.sub(r"[^a-z0-9]+", "-", name.lower())).strip("-")[:40]
            if name.casefold() not in names and slug not in {d.split(".")[0] for _, d in names.values()}:
                names[name.casefold()] = (name, f"{slug}.example")
        return list(names.values())

    def _customers(self, n_orgs: int) -> list[CustomerPlan]:
        rng = self.rng
        phones = phone_numbers(rng)
        emails: set[str] = set()
        handles: set[str] = set()
        customers = []
        for index in range(self.n_customers):
            language = _pick(rng, LANGUAGE_MIX)
            first, last = self._person_name(language)
            timezone_name = _pick(rng, TIMEZONES[language])
            organization = rng.randrange(n_orgs) if rng.random() < ORG_CUSTOMER_SHARE else None
            tier = _pick(rng, ORG_TIER_MIX if organization is not None else TIER_MIX)
            customer = CustomerPlan(
                first_name=first,
                last_name=last,
                language=language,
                timezone=timezone_name,
                tier=tier,
                tags=sorted(rng.sample(V.CUSTOMER_TAGS, rng.choice((0, 0, 0, 1, 1, 2)))),
                attributes={"account_number": f"AC-{100001 + index}", "plan": rng.choice(V.PLANS)},
                survey_opt_out=rng.random() < 0.05,
                marketing_consent=rng.random() < 0.4,
                created_at=self.start - timedelta(days=rng.uniform(1, 1000)),
                organization=organization,
                weight=rng.lognormvariate(0, 0.9),
            )
            country = "US" if timezone_name.startswith("America/") else COUNTRY_OF_ZONE.get(timezone_name)
            wants_phone = country is not None and bool(phones[country]) and rng.random() < 0.7
            if organization is not None or not wants_phone or rng.random() < 0.85:
                local = f"{_ascii_slug(first) or 'customer'}.{_ascii_slug(last) or index}"
                domain = (
                    self.org_domains[organization]
                    if organization is not None
                    else rng.choice(("example.com", "example.net", "example.org"))
                )
                email, suffix = f"{local}@{domain}", 1
                while email in emails:
                    suffix += 1
                    email = f"{local}{suffix}@{domain}"
                emails.add(email)
                customer.email = email
            if wants_phone:
                customer.phone = phones[country].pop()
            if rng.random() < 0.12:
                handle = "@" + (_ascii_slug(first)[:10] + _ascii_slug(last)[:6] or "user") + str(rng.randint(1, 99))
                if handle not in handles:
                    handles.add(handle)
                    customer.social = handle
            customers.append(customer)
        return customers

    # --- interactions ---

    def _interactions(self) -> None:
        rng = self.rng
        slots = hour_slots(start=self.start, now=self.now, outage_day=self.outage_day)
        cumulative = {
            live: _cumulative([slot.live_weight if live else slot.async_weight for slot in slots])
            for live in (True, False)
        }
        # when, and on which channel, each contact arrives; then simulated in arrival order
        arrivals = []
        for _ in range(self.n_interactions):
            channel = _pick(rng, CHANNEL_MIX)
            cum = cumulative[channel in LIVE_CHANNELS]
            if not cum or cum[-1] <= 0:
                channel, cum = Channel.EMAIL, cumulative[False]
            slot = slots[min(len(slots) - 1, _bisect(cum, rng.random() * cum[-1]))]
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
            name: (members, _cumulative([self.customers[i].weight for i in members])) for name, members in pools.items()
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
                customer = members[_bisect(cum, rng.random() * cum[-1])]
            else:
                customer = parent.customer
            ix, values = self._new_interaction(index, customer, channel, created_at, parent)
            self._simulate(ix, values)
            self.interactions.append(ix)

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
            choice = _pick(rng, OUTAGE_QUEUES if is_outage(at, self.outage_day) else GENERAL_QUEUES)
        if self.eligible.get((choice, channel)):
            return choice
        # nobody can serve this channel there: the first queue of the channel that somebody can serve
        return next(q.name for q in V.QUEUES if self.eligible.get((q.name, channel)))

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
        priority = _pick(rng, PRIORITY_MIX)
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
            ix.subject = _fill(rng.choice(spec.subjects), values)
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
            messages.append(MessagePlan(MessageDirection.INTERNAL, False, _fill(V.IVR_NOTE, values), queued))
        else:
            messages.append(
                MessagePlan(MessageDirection.INBOUND, False, _fill(rng.choice(spec.openings), values), queued)
            )

        accept_lag = _seconds(rng, how.accept_lag)
        respond_lag = _seconds(rng, how.respond_lag)
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
        hold = _seconds(rng, how.hold) if rng.random() < how.hold_rate else 0
        wrap = _seconds(rng, how.wrap)
        work_seconds = accept_lag + talk_work + hold + wrap
        owned_seconds = work_seconds + pending

        patience = _seconds(rng, how.patience)
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
                note = _fill(V.ABANDON_NOTE, {**values, "seconds": waited})
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
                    {"talk_seconds": _span(active_since, hold_start)},
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
                {"talk_seconds": _span(active_since, wrap_start)},
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
            note = _fill(rng.choice(V.CALL_NOTES), values)
            return [MessagePlan(MessageDirection.INTERNAL, True, note, wrap_start + timedelta(seconds=2))]
        messages = [
            MessagePlan(MessageDirection.OUTBOUND, True, _fill(rng.choice(spec.replies), values), first_response)
        ]
        pairs = rng.randint(*how.exchanges) + (1 if pending else 0)
        end = wrap_start if pending else work_end
        span = max(1.0, (end - first_response).total_seconds())
        for n in range(min(pairs, 2)):
            asked = first_response + timedelta(seconds=span * (2 * n + 1) / (2 * pairs + 1))
            answered = first_response + timedelta(seconds=span * (2 * n + 2) / (2 * pairs + 1))
            messages.append(
                MessagePlan(MessageDirection.INBOUND, False, _fill(rng.choice(V.CUSTOMER_FOLLOW_UPS), values), asked)
            )
            messages.append(
                MessagePlan(MessageDirection.OUTBOUND, True, _fill(rng.choice(V.AGENT_FOLLOW_UPS), values), answered)
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

    # --- surveys and notes ---

    def _surveys(self) -> list[SurveyPlan]:
        rng = self.rng
        followed_up = {ix.follow_up_of for ix in self.interactions if ix.follow_up_of is not None}
        last_sent: dict[int, datetime] = {}
        surveys = []
        for ix in sorted(
            (i for i in self.interactions if "resolved_at" in i.stamps), key=lambda i: i.stamps["resolved_at"]
        ):
            customer = self.customers[ix.customer]
            sent_at = ix.stamps["resolved_at"] + SURVEY_DELAY
            previous = last_sent.get(ix.customer)
            if (
                customer.survey_opt_out
                or sent_at > self.now
                or (previous is not None and sent_at - previous < SURVEY_FREQUENCY_CAP)
                or rng.random() >= SURVEY_RATE
            ):
                continue
            last_sent[ix.customer] = sent_at
            happy = ix.sla_met and ix.index not in followed_up
            kinds = [SurveyKind.CSAT] + ([SurveyKind.NPS] if rng.random() < NPS_SHARE else [])
            for kind in kinds:
                survey = SurveyPlan(ix.index, kind, sent_at)
                answered_at = sent_at + timedelta(seconds=60 + rng.expovariate(1 / (3 * 3600)))
                if rng.random() < SURVEY_ANSWER_RATE and answered_at <= self.now:
                    survey.answered_at = answered_at
                    if kind == SurveyKind.CSAT:
                        survey.score = _pick(rng, CSAT_GOOD if happy else CSAT_BAD)
                    else:
                        band = _pick(
                            rng,
                            {"promoter": 0.6, "passive": 0.3, "detractor": 0.1}
                            if happy
                            else {"promoter": 0.25, "passive": 0.3, "detractor": 0.45},
                        )
                        survey.score = {
                            "promoter": rng.randint(9, 10),
                            "passive": rng.randint(7, 8),
                            "detractor": rng.randint(0, 6),
                        }[band]
                    if rng.random() < 0.3:
                        survey.comment = rng.choice(V.SURVEY_COMMENTS_GOOD if happy else V.SURVEY_COMMENTS_BAD)
                surveys.append(survey)
        return surveys

    def _notes(self, authors: list[str]) -> list[NotePlan]:
        rng = self.rng
        window = (self.now - self.start).total_seconds()
        notes = []
        for index in range(len(self.customers)):
            if rng.random() < NOTE_RATE:
                for _ in range(rng.randint(1, 2)):
                    at = self.start + timedelta(seconds=rng.uniform(0, window))
                    notes.append(NotePlan(index, rng.choice(authors), rng.choice(V.CUSTOMER_NOTES), at))
        return notes


def _span(begin: datetime, end: datetime) -> int:
    return max(0, round((end - begin).total_seconds()))


def _cumulative(weights: list[float]) -> list[float]:
    total, cum = 0.0, []
    for weight in weights:
        total += weight
        cum.append(total)
    return cum


def _bisect(cum: list[float], value: float) -> int:
    return min(len(cum) - 1, bisect_right(cum, value))


def demo_plan(*, seed: int, now: datetime, days: int, customers: int, interactions: int) -> DemoPlan:
    """The whole demo center, in memory."""
    return DemoPlanner(seed=seed, now=now, days=days, customers=customers, interactions=interactions).plan()
