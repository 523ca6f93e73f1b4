"""``manage.py seed_demo``: a small center (50 customers, 300 interactions, 14 days), checked as a user would."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import phonenumbers
import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db.models import Count, Max, Min
from django.test import RequestFactory

from agents.choices import AGENT_STATUS_TRANSITIONS
from agents.models import Agent, AgentSkill, AgentStatusLog, Skill, Team
from contacts.models import ContactIdentity, Customer, Note, Organization
from contacts.services import normalize_address
from crm.choices import OPEN_STATUSES, OWNED_STATUSES, InteractionStatus, Priority
from crm.demo.plan import demo_plan
from crm.interactions.models import Interaction, InteractionEvent, Message
from crm.routing.models import Queue
from crm.sla.models import SLAPolicy, SLATarget
from crm.surveys.models import Survey, SurveyResponse
from tests.agents.factories import UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 6, 11, 14, 0, tzinfo=UTC)  # a Wednesday afternoon: agents at work, some contacts open
SMALL = {"customers": 50, "interactions": 300, "days": 14, "now": NOW.isoformat()}
ALL_MODELS = (
    Team,
    Skill,
    Agent,
    AgentSkill,
    AgentStatusLog,
    Queue,
    SLAPolicy,
    SLATarget,
    Organization,
    Customer,
    ContactIdentity,
    Note,
    Interaction,
    InteractionEvent,
    Message,
    Survey,
    SurveyResponse,
)
STEPS = ("created_at", "queued_at", "assigned_at", "accepted_at", "first_response_at", "resolved_at", "closed_at")


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, **{**SMALL, **options})
    return out.getvalue()


@pytest.fixture
def seeded():
    return seed()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in ALL_MODELS}


def test_seed_builds_the_center_with_the_requested_volumes(seeded):
    assert {t.name for t in Team.objects.all()} == {"Billing", "Technical Support", "Sales"}
    assert all(team.supervisors.filter(is_staff=True).exists() for team in Team.objects.all())
    assert Agent.objects.count() == 30
    assert set(Skill.objects.values_list("name", flat=True)) == {
        "Billing",
        "Technical Support",
        "Sales",
        "English",
        "Spanish",
        "French",
        "German",
    }
    assert Queue.objects.count() == 6
    assert {c for q in Queue.objects.all() for c in q.channels} == {"voice", "email", "chat", "sms", "social"}
    vip = Queue.objects.get(name="VIP Care")
    assert vip.overflow_queue.name == "Billing" and vip.overflow_after_seconds == 60
    assert Customer.objects.count() == 50
    assert Interaction.objects.count() == 300
    assert Organization.objects.exists()
    assert Survey.objects.exists() and SurveyResponse.objects.exists()
    assert AgentStatusLog.objects.exists()
    assert "admin" in seeded and "agent1" in seeded and "supervisor1" in seeded


def test_sla_targets_follow_common_practice_and_tighten_with_priority(seeded):
    standard = SLAPolicy.objects.get(name="Standard service")

    def target(channel, priority=None):
        return standard.targets.get(channel=channel, priority=priority)

    assert target("voice").first_response_seconds == 20
    assert (target("chat").first_response_seconds, target("chat").resolution_seconds) == (120, 3600)
    assert (target("email").first_response_seconds, target("email").resolution_seconds) == (4 * 3600, 24 * 3600)
    assert target("sms").first_response_seconds == 15 * 60
    assert (target("social").first_response_seconds, target("social").resolution_seconds) == (3600, 24 * 3600)
    assert (
        target("chat", Priority.URGENT).first_response_seconds
        < target("chat", Priority.HIGH).first_response_seconds
        < target("chat").first_response_seconds
    )


def test_interaction_steps_happen_in_lifecycle_order(seeded):
    for ix in Interaction.objects.all():
        stamps = [getattr(ix, step) for step in STEPS if getattr(ix, step) is not None]
        assert stamps == sorted(stamps), ix.pk
        assert ix.created_at <= NOW and all(s <= NOW for s in stamps)
        if ix.status in OWNED_STATUSES or ix.status in (InteractionStatus.RESOLVED, InteractionStatus.CLOSED):
            assert ix.agent_id is not None and ix.assigned_at is not None
        if ix.status in (InteractionStatus.RESOLVED, InteractionStatus.CLOSED):
            assert ix.resolved_at and ix.disposition and ix.category
        if ix.status == InteractionStatus.ABANDONED:
            assert ix.abandoned_at >= ix.queued_at and ix.agent_id is None
        if ix.status == InteractionStatus.QUEUED:
            assert ix.assigned_at is None and ix.first_response_due_at is not None


def test_history_has_a_believable_shape(seeded):
    statuses = dict(Interaction.objects.values_list("status").annotate(n=Count("id")))
    assert statuses[InteractionStatus.CLOSED] > 200  # most are long done
    assert statuses.get(InteractionStatus.ABANDONED, 0) > 0
    assert sum(statuses.get(s, 0) for s in OPEN_STATUSES) > 0  # something is still going on "now"
    channels = set(Interaction.objects.values_list("channel", flat=True))
    assert channels == {"voice", "email", "chat", "sms", "social"}
    follow_ups = Interaction.objects.filter(follow_up_of__isnull=False).select_related("follow_up_of")
    assert 0.05 < follow_ups.count() / 300 < 0.3
    for ix in follow_ups:
        parent = ix.follow_up_of
        assert parent.customer_id == ix.customer_id
        assert parent.resolved_at <= ix.created_at <= parent.resolved_at + timedelta(days=7)
    weekday_hours = Interaction.objects.filter(
        created_at__week_day__in=[2, 3, 4, 5, 6], created_at__hour__range=(8, 19)
    )
    assert weekday_hours.count() / 300 > 0.7  # the center is busiest on weekdays in business hours


def test_events_and_messages_match_each_interaction(seeded):
    for ix in Interaction.objects.prefetch_related("events", "messages"):
        events = list(ix.events.all())  # ordered by (at, id)
        assert [e.kind for e in events[:2]] == ["created", "queued"]
        status_events = [e for e in events if e.from_status != e.to_status]
        assert status_events[-1].to_status == ix.status, ix.pk
        for before, after in zip(status_events, status_events[1:], strict=False):
            assert before.to_status == after.from_status
        assert sum(e.data.get("talk_seconds", 0) for e in events) == ix.talk_seconds
        messages = list(ix.messages.all())
        assert 1 <= len(messages) <= 6
        assert all(ix.created_at <= m.created_at <= NOW for m in messages)


def test_identities_are_valid_and_normalised(seeded):
    assert not Customer.objects.filter(identities__isnull=True).exists()
    for identity in ContactIdentity.objects.all():
        assert normalize_address(channel=identity.channel, address=identity.address) == identity.address
        if identity.channel == "phone":
            assert phonenumbers.is_valid_number(phonenumbers.parse(identity.address))
    for customer in Customer.objects.exclude(email=""):
        assert customer.identities.filter(channel="email", address=customer.email, is_primary=True).exists()


def test_agent_presence_log_uses_allowed_steps_and_ends_in_the_current_status(seeded):
    for agent in Agent.objects.all():
        log = list(agent.status_log.order_by("changed_at", "id"))
        assert log, agent.name
        for before, after in zip(log, log[1:], strict=False):
            assert after.previous_status == before.status
            assert after.status in AGENT_STATUS_TRANSITIONS[after.previous_status]
        assert (agent.status, agent.status_changed_at) == (log[-1].status, log[-1].changed_at)
    busy_agents = set(
        Interaction.objects.filter(status="active", channel__in=["voice", "chat"]).values_list("agent_id", flat=True)
    )
    assert set(Agent.objects.filter(id__in=busy_agents).values_list("status", flat=True)) <= {"busy"}


def test_second_run_changes_nothing_and_says_so(seeded):
    before = counts()
    last_change = Interaction.objects.aggregate(Max("updated_at"), Min("id"))
    output = seed(customers=80, interactions=500)
    assert "nothing changed" in output
    assert counts() == before
    assert Interaction.objects.aggregate(Max("updated_at"), Min("id")) == last_change


def test_demo_logins_work(seeded, client):
    response = client.post("/admin/login/?next=/admin/", {"username": "admin", "password": "switchboard"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    request = RequestFactory().post("/accounts/login/")
    for username in ("supervisor1", "agent1"):
        assert client.login(request=request, username=username, password="switchboard"), username
    assert not client.login(request=request, username="agent1", password="wrong")


def test_password_option_and_existing_groups_are_used():
    # the groups come from a data migration; the seed only joins them
    Group.objects.get_or_create(name="Supervisor")
    Group.objects.get_or_create(name="Agent")
    seed(customers=20, interactions=60, days=7, admin_password="another-demo-password")
    request = RequestFactory().post("/accounts/login/")
    assert authenticate(request, username="admin", password="another-demo-password") is not None
    assert Group.objects.get(name="Supervisor").user_set.filter(username="supervisor1").exists()
    assert Group.objects.get(name="Agent").user_set.count() == 30


def test_same_seed_and_reference_time_give_the_same_center():
    def fingerprint(plan):
        return [(c.name, c.email, c.phone) for c in plan.customers], [
            (i.customer, i.channel, i.created_at, i.status, i.agent, i.subject) for i in plan.interactions
        ]

    options = {"seed": 7, "now": NOW, "days": 7, "customers": 20, "interactions": 80}
    assert fingerprint(demo_plan(**options)) == fingerprint(demo_plan(**options))
    assert fingerprint(demo_plan(**{**options, "seed": 8})) != fingerprint(demo_plan(**options))


def test_a_bad_reference_time_is_refused_before_anything_is_written():
    with pytest.raises(CommandError, match="--now"):
        seed(now="next tuesday")
    assert Interaction.objects.count() == 0 and Customer.objects.count() == 0


def test_an_existing_admin_keeps_its_password_and_is_reported():
    UserFactory(username="admin", is_staff=True, is_superuser=True, password="kept-password-123")
    output = seed(customers=20, interactions=60, days=7)
    assert "existed before: password unchanged" in output
    request = RequestFactory().post("/accounts/login/")
    assert authenticate(request, username="admin", password="kept-password-123") is not None
    assert authenticate(request, username="agent1", password="switchboard") is not None
