"""A small, hand-built day of contact-center traffic whose KPIs are worked out by hand in the tests."""

from datetime import UTC, datetime, timedelta

import pytest

from crm.interactions.models import InteractionEvent
from tests.agents.factories import AgentFactory, TeamFactory
from tests.contacts.factories import CustomerFactory
from tests.crm.factories import InteractionFactory, QueueFactory, SurveyFactory, SurveyResponseFactory

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # a Monday
DAY_START = datetime(2026, 11, 2, tzinfo=UTC)
DAY_END = datetime(2026, 11, 3, tzinfo=UTC)
S = timedelta(seconds=1)


def answer(score, kind, interaction):
    return SurveyResponseFactory(survey=SurveyFactory(interaction=interaction, kind=kind), score=score, answered_at=T0)


def handled(*, at, wait, queue, agent, customer=None, channel="chat", resolve_after=None, talk=0, hold=0, wrap=0, **kw):
    """An interaction created and queued at ``at``, accepted ``wait`` seconds later, resolved after ``resolve_after``."""
    resolved = at + resolve_after if resolve_after is not None else None
    return InteractionFactory(
        queue=queue,
        agent=agent,
        channel=channel,
        customer=customer or CustomerFactory(),
        status="resolved" if resolved else "active",
        created_at=at,
        queued_at=at,
        assigned_at=at + wait * S,
        accepted_at=at + wait * S,
        resolved_at=resolved,
        talk_seconds=talk,
        hold_seconds=hold,
        wrap_up_seconds=wrap,
        **kw,
    )


@pytest.fixture
def day(db):
    """Five contacts on 2 Nov 2026 (UTC) in queue "Front" (80/20), plus contacts just outside the day.

    A chat  10:00  answered in 10 s, resolved, 300+60+40 s, billing, due times kept; CSAT 5, NPS 10, CES 2
    B chat  11:00  answered in 30 s, resolved, 200+0+100 s, billing; same customer back on billing 2 days later;
                   first response due 11:01, never sent, resolved 11:20: breached; CSAT 3, NPS 6, CES 5
    C chat  12:00  abandoned after 50 s
    D chat  13:00  answered in exactly 20 s, still active, transferred once
    E email 14:00  answered in 5 s, first response after 30 min (due in 1 h), resolved after 2 h, 100 s handling,
                   shipping; the customer comes back the next day on *billing* (another category); CSAT 4, NPS 9
    """
    team = TeamFactory(name="Front team")
    queue = QueueFactory(name="Front", team=team, service_level_seconds=20, channels=["chat", "email"])
    agent = AgentFactory(name="Ada", team=team)
    other = AgentFactory(name="Bob", team=team)
    c1, c2, c3 = CustomerFactory(), CustomerFactory(), CustomerFactory()
    a = handled(
        at=T0,
        wait=10,
        queue=queue,
        agent=agent,
        customer=c1,
        resolve_after=timedelta(minutes=10),
        talk=300,
        hold=60,
        wrap=40,
        category="billing",
        disposition="solved",
        first_response_at=T0 + 30 * S,
        first_response_due_at=T0 + 60 * S,
        resolution_due_at=T0 + timedelta(hours=1),
    )
    b = handled(
        at=T0 + timedelta(hours=1),
        wait=30,
        queue=queue,
        agent=other,
        customer=c2,
        resolve_after=timedelta(minutes=20),
        talk=200,
        wrap=100,
        category="billing",
        disposition="solved",
        first_response_due_at=T0 + timedelta(hours=1, minutes=1),
    )
    c = InteractionFactory(
        queue=queue,
        status="abandoned",
        created_at=T0 + timedelta(hours=2),
        queued_at=T0 + timedelta(hours=2),
        abandoned_at=T0 + timedelta(hours=2, seconds=50),
    )
    d = handled(at=T0 + timedelta(hours=3), wait=20, queue=queue, agent=agent, category="billing")
    InteractionEvent.objects.create(interaction=d, kind="transferred", at=T0 + timedelta(hours=3, minutes=5))
    e = handled(
        at=T0 + timedelta(hours=4),
        wait=5,
        queue=queue,
        agent=agent,
        customer=c3,
        channel="email",
        resolve_after=timedelta(hours=2),
        talk=100,
        category="shipping",
        disposition="refund",
        first_response_at=T0 + timedelta(hours=4, minutes=30),
        first_response_due_at=T0 + timedelta(hours=5),
    )
    # outside the day: B's repeat contact (2 days later, same category), E's customer on another category,
    # one second before the day and exactly at its end (the range is half-open)
    InteractionFactory(queue=queue, customer=c2, category="billing", created_at=T0 + timedelta(days=2, hours=1))
    InteractionFactory(queue=queue, customer=c3, category="billing", created_at=T0 + timedelta(days=1, hours=4))
    InteractionFactory(queue=queue, created_at=DAY_START - S)
    InteractionFactory(queue=queue, created_at=DAY_END)
    for score, kind, target in [
        (5, "csat", a),
        (3, "csat", b),
        (4, "csat", e),
        (10, "nps", a),
        (6, "nps", b),
        (9, "nps", e),
        (2, "ces", a),
        (5, "ces", b),
    ]:
        answer(score, kind, target)
    return {"queue": queue, "team": team, "agent": agent, "other": other, "a": a, "b": b, "c": c, "d": d, "e": e}
