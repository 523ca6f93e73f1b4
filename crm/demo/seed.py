"""Seeds the demo center once: draws the plan (``crm.demo.plan``) and writes it (``crm.demo.writer``) in one transaction.

Bulk inserts bypass the lifecycle services on purpose: they replay 90 days of history with timestamps
from the past, which the services (stamping ``timezone.now()``, sending events and webhooks on commit)
exist to prevent. The plan keeps the same invariants the services do (``crm.demo.plan``).
"""

import time
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction

from agents.models import Agent, AgentStatusLog, Skill, Team
from contacts.models import ContactIdentity, Customer, Note, Organization
from crm.demo.plan import demo_plan
from crm.demo.writer import EXTERNAL_ID_PREFIX, DemoWriter
from crm.interactions.models import Interaction, InteractionEvent, Message
from crm.routing.models import Queue
from crm.sla.models import SLAPolicy
from crm.surveys.models import Survey, SurveyResponse

# pg_advisory_xact_lock key: two seeds started at once run one after the other, the second finds the first's data.
ADVISORY_LOCK_KEY = 0x5B_DE_30_01

COUNTED_MODELS = (
    ("teams", Team),
    ("skills", Skill),
    ("agents", Agent),
    ("queues", Queue),
    ("SLA policies", SLAPolicy),
    ("organizations", Organization),
    ("customers", Customer),
    ("contact identities", ContactIdentity),
    ("interactions", Interaction),
    ("interaction events", InteractionEvent),
    ("messages", Message),
    ("surveys", Survey),
    ("survey responses", SurveyResponse),
    ("customer notes", Note),
    ("agent status changes", AgentStatusLog),
)


@dataclass
class DemoSeedResult:
    created: bool
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    logins: list[tuple[str, str]] = field(default_factory=list)  # (username, role)
    existing_users: list[str] = field(default_factory=list)  # their passwords were left alone


def demo_is_seeded() -> bool:
    return Interaction.objects.filter(external_id__startswith=EXTERNAL_ID_PREFIX).exists()


def demo_seed(
    *, password: str, now: datetime, seed: int = 42, days: int = 90, customers: int = 2000, interactions: int = 20000
) -> DemoSeedResult:
    """Fill the database with a believable contact center, once.

    All in one transaction: a failed seed leaves nothing behind, so "demo interactions exist" is a
    reliable sign that the seed ran, and a second run changes nothing (``created`` is False).
    """
    started = time.monotonic()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
        if demo_is_seeded():
            return DemoSeedResult(created=False)
        plan = demo_plan(seed=seed, now=now, days=days, customers=customers, interactions=interactions)
        writer = DemoWriter(plan, password_hash=make_password(password))
        writer.write()
    counts = {label: model.objects.count() for label, model in COUNTED_MODELS}
    return DemoSeedResult(
        created=True,
        seconds=time.monotonic() - started,
        counts=counts,
        logins=[
            (plan.admin.username, "superuser"),
            (plan.supervisors[0].username, f"supervisor of {plan.supervisors[0].team}"),
            (plan.agents[0].username, f"agent in {plan.agents[0].team}"),
        ],
        existing_users=writer.existing_users,
    )
