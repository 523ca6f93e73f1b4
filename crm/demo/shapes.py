"""The demo planner's rules and results: the mixes and rates it draws from, and the plan it returns.

Constants (channel, priority, tier and language mixes; handling times per channel), the plan's dataclasses
(``DemoPlan`` and what it holds) and the small drawing helpers the planner's parts share.
"""

import random
import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from config.choices import Channel
from contacts.choices import Tier
from crm.choices import InteractionStatus as S
from crm.choices import Priority
from crm.demo import vocabulary as V

from .schedule import (
    Roster,
    StatusChange,
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


def pick(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def ascii_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "", folded)


def random_seconds(rng: random.Random, bounds: tuple[int, int]) -> int:
    return rng.randint(*bounds) if bounds[1] else 0


def fill(text: str, values: dict) -> str:
    return text.format_map(values)


def target_for(policy: str, channel: str, priority: int) -> V.Target:
    """The SLA target the demo's policies give (same rule as ``crm.sla.services.engine``: most specific row wins)."""
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


def span_seconds(begin: datetime, end: datetime) -> int:
    return max(0, round((end - begin).total_seconds()))


def cumulative_weights(weights: list[float]) -> list[float]:
    total, cum = 0.0, []
    for weight in weights:
        total += weight
        cum.append(total)
    return cum


def bisect_index(cum: list[float], value: float) -> int:
    return min(len(cum) - 1, bisect_right(cum, value))
