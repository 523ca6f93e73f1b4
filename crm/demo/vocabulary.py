"""What the demo center is made of and talks about: teams, skills, SLA targets, queues, topics and texts.

Plain data, no database: ``crm.demo.plan`` draws from it and ``crm.demo.seed`` writes what it drew.
Texts use ``str.format_map`` placeholders: ``{first}`` (the customer's first name), ``{agent}`` (the
agent's first name), ``{ref}`` (an invoice, order or ticket number) and ``{amount}``.
"""

from dataclasses import dataclass

from config.choices import Channel
from crm.choices import Priority

from .topics import TOPICS, Topic  # noqa: F401  (kept in their own module; read as V.TOPICS)

MINUTE, HOUR = 60, 3600

# --- people ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamSpec:
    name: str
    skill: str
    supervisor: str
    description: str


TEAMS = (
    TeamSpec("Billing", "Billing", "supervisor1", "Invoices, payments, refunds and plan changes."),
    TeamSpec("Technical Support", "Technical Support", "supervisor2", "Sign-in, connectivity, devices and bugs."),
    TeamSpec("Sales", "Sales", "supervisor3", "Prices, quotes, upgrades and trials."),
)
AGENTS_PER_TEAM = 10
# customer language → the skill an agent needs to serve it
LANGUAGE_SKILLS = {"en": "English", "es": "Spanish", "fr": "French", "de": "German"}
SKILL_DESCRIPTIONS = {
    "Billing": "Invoices, payments and refunds.",
    "Technical Support": "Troubleshooting the product and its devices.",
    "Sales": "Selling plans, upgrades and add-ons.",
    "English": "Serves customers in English.",
    "Spanish": "Atiende en español.",
    "French": "Sert les clients en français.",
    "German": "Betreut Kunden auf Deutsch.",
}

# --- service levels --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    first_response: int
    next_response: int | None
    resolution: int | None


# Normal-priority targets by channel, after common contact-center practice: voice answered in 20 s
# (the 80/20 rule), chat in 2 min and solved within the hour, e-mail answered in 4 h and solved in a day.
BASE_TARGETS = {
    Channel.VOICE: Target(20, None, None),
    Channel.CHAT: Target(2 * MINUTE, 3 * MINUTE, HOUR),
    Channel.EMAIL: Target(4 * HOUR, 8 * HOUR, 24 * HOUR),
    Channel.SMS: Target(15 * MINUTE, 30 * MINUTE, 8 * HOUR),
    Channel.SOCIAL: Target(HOUR, 2 * HOUR, 24 * HOUR),
    Channel.WEB: Target(4 * HOUR, 8 * HOUR, 24 * HOUR),
}
# Higher priorities get tighter targets (low and normal share the channel's base row).
PRIORITY_FACTORS = {Priority.HIGH: 0.75, Priority.URGENT: 0.5}
MIN_TARGET_SECONDS = 5


@dataclass(frozen=True)
class PolicySpec:
    name: str
    factor: float
    description: str


POLICIES = (
    PolicySpec("Standard service", 1.0, "The promise every customer gets."),
    PolicySpec("Premium care", 0.5, "Twice as fast, for VIP customers."),
)


def scaled(seconds: int | None, factor: float) -> int | None:
    return None if seconds is None else max(MIN_TARGET_SECONDS, round(seconds * factor))


def policy_targets(policy: PolicySpec) -> list[tuple[str, int | None, Target]]:
    """``(channel, priority, target)`` rows of a policy: one per channel, plus tighter high and urgent rows."""
    rows: list[tuple[str, int | None, Target]] = []
    for channel, base in BASE_TARGETS.items():
        for priority, factor in ((None, 1.0), *PRIORITY_FACTORS.items()):
            f = policy.factor * factor
            rows.append(
                (
                    channel,
                    priority,
                    Target(scaled(base.first_response, f), scaled(base.next_response, f), scaled(base.resolution, f)),
                )
            )
    return rows


# --- queues ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueSpec:
    name: str
    team: str
    channels: tuple[str, ...]
    priority: int
    skills: tuple[tuple[str, int], ...]
    policy: str
    topics: tuple[str, ...]
    description: str
    service_level_seconds: int = 20
    service_level_target: str = "0.800"
    overflow_to: str = ""
    overflow_after_seconds: int | None = None


VOICE_EMAIL_CHAT = (Channel.VOICE, Channel.EMAIL, Channel.CHAT)
BILLING_TOPICS = ("invoice", "payment_failed", "refund", "plan_change", "payment_method")
TECH_TOPICS = ("login", "connectivity", "bug", "how_to", "device")
SALES_TOPICS = ("pricing", "quote", "upgrade", "trial", "demo")

QUEUES = (
    QueueSpec(
        "Billing",
        "Billing",
        VOICE_EMAIL_CHAT,
        5,
        (("Billing", 2), ("English", 3)),
        "Standard service",
        BILLING_TOPICS,
        "Invoices, payments, refunds.",
    ),
    QueueSpec(
        "Technical Support",
        "Technical Support",
        VOICE_EMAIL_CHAT,
        5,
        (("Technical Support", 2), ("English", 3)),
        "Standard service",
        TECH_TOPICS,
        "Troubleshooting and how-to.",
    ),
    QueueSpec(
        "Sales",
        "Sales",
        VOICE_EMAIL_CHAT,
        6,
        (("Sales", 1), ("English", 3)),
        "Standard service",
        SALES_TOPICS,
        "New business and upgrades: answered a little before service work.",
    ),
    QueueSpec(
        "Social & SMS",
        "Technical Support",
        (Channel.SMS, Channel.SOCIAL),
        4,
        (("English", 3),),
        "Standard service",
        ("status", "account", "complaint", "praise", "login"),
        "Short-form messages from SMS and social networks.",
        service_level_seconds=15 * MINUTE,
    ),
    QueueSpec(
        "Soporte en español",
        "Billing",
        VOICE_EMAIL_CHAT,
        5,
        (("Spanish", 3),),
        "Standard service",
        ("es_factura", "es_acceso", "es_baja"),
        "Spanish-speaking customers, any topic.",
    ),
    QueueSpec(
        "VIP Care",
        "Billing",
        (Channel.VOICE, Channel.EMAIL, Channel.CHAT, Channel.SMS, Channel.SOCIAL),
        9,
        (("Billing", 3), ("English", 4)),
        "Premium care",
        ("invoice", "refund", "plan_change", "connectivity", "upgrade"),
        "Gold and VIP accounts, served first by senior agents.",
        service_level_seconds=10,
        service_level_target="0.900",
        # a VIP left waiting a minute is better served by the general billing line than not at all
        overflow_to="Billing",
        overflow_after_seconds=60,
    ),
)

# --- the rest of a conversation --------------------------------------------------------------------

CUSTOMER_FOLLOW_UPS = (
    "Thanks, that worked!",
    "Great, thank you {agent}.",
    "Hmm, still not quite right. Can you check again?",
    "OK. Will I get a confirmation by e-mail?",
    "Perfect, that's all I needed.",
    "One more thing: can you also update my contact details?",
)
AGENT_FOLLOW_UPS = (
    "You're welcome {first}! Is there anything else I can help with?",
    "I've double-checked: everything is in order now.",
    "Yes, you'll receive a confirmation shortly.",
    "Done. Have a great day, {first}!",
)
INTERNAL_NOTES = (
    "Customer was polite, issue fully explained.",
    "Checked account history: second contact about this; see previous interaction.",
    "Offered a goodwill credit, customer accepted.",
    "Verified identity with date of birth and postcode.",
    "Escalated internally, waiting for confirmation from the specialist team.",
)
CALL_NOTES = (
    "Call notes: {category}. Customer verified; explained the situation and the next steps.",
    "Call notes: {category}. Resolved on the call; customer happy.",
    "Call notes: {category}. Walked the customer through it step by step.",
)
IVR_NOTE = "IVR: caller chose '{queue}', identified by phone number."
ABANDON_NOTE = "Caller hung up after {seconds} s in queue."
CUSTOMER_NOTES = (
    "Prefers to be contacted by e-mail.",
    "Long-standing customer; renewal due next quarter.",
    "Sensitive about billing errors, please double-check invoices.",
    "Has asked for a callback in the afternoon only.",
    "Key contact for their organization's account.",
    "Had a service outage last month, credit was applied.",
)
SURVEY_COMMENTS_GOOD = (
    "Quick and friendly, thank you!",
    "Problem solved on the first try.",
    "Very helpful agent.",
    "Great service as always.",
)
SURVEY_COMMENTS_BAD = (
    "Took far too long to get an answer.",
    "I had to explain my problem twice.",
    "Issue is still not fixed.",
    "The agent was nice but could not help.",
)
CUSTOMER_TAGS = ("newsletter", "beta-tester", "enterprise", "churn-risk", "partner", "high-value", "student")
PLANS = ("Starter", "Pro", "Business", "Enterprise")
