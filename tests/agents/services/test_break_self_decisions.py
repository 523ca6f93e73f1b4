"""Nobody decides their own break: a supervisor who is also an agent of their team needs another supervisor.

Held in ``agents.breaks`` itself, so the API, the admin's board and break actions, and any other caller agree.
"""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from agents.breaks import break_approve, break_deny, break_request, break_send_now, break_start, break_type_get
from agents.choices import AgentStatus, BreakKind, BreakStatus
from agents.models import Break
from agents.services import agent_set_status
from config.errors import NotAllowed
from tests.agents.factories import AgentFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

default_groups = importlib.import_module("crm.migrations.0002_default_groups")
supervision = importlib.import_module("crm.migrations.0007_supervision_permissions_and_scorecard")


@pytest.fixture
def team(db):
    return TeamFactory(name="Floor")


@pytest.fixture
def lead(team):
    """A supervisor of the team who also takes contacts: they have an agent profile in it."""
    default_groups.create_groups(apps, None)
    supervision.forwards(apps, None)
    user = UserFactory(username="lead", is_staff=True)
    user.groups.add(Group.objects.get(name="Supervisor"))
    team.supervisors.add(user)
    agent = AgentFactory(user=user, team=team, name="Lee Lead")
    agent_set_status(agent=agent, status=AgentStatus.AVAILABLE)
    return agent


@pytest.fixture
def colleague(team):
    user = UserFactory(username="other-lead")
    team.supervisors.add(user)
    return user


def _own_request(lead) -> Break:
    return break_request(agent=lead, break_type=break_type_get(code=BreakKind.LUNCH), actor=lead.user)


@pytest.mark.parametrize(
    ("decide", "message"),
    [
        (lambda brk, actor: break_approve(brk=brk, actor=actor), "You cannot approve your own break"),
        (lambda brk, actor: break_deny(brk=brk, actor=actor), "You cannot deny your own break"),
        (lambda brk, actor: break_send_now(agent=brk.agent, actor=actor), "You cannot send yourself on a break"),
    ],
)
def test_a_supervisor_cannot_decide_their_own_break_request(lead, decide, message):
    brk = _own_request(lead)

    with pytest.raises(NotAllowed, match=message) as refused:
        decide(brk, lead.user)

    assert "another supervisor of your team or an administrator" in str(refused.value)
    brk.refresh_from_db()
    lead.refresh_from_db()
    assert (brk.status, brk.approved_by) == (BreakStatus.REQUESTED, None)
    assert lead.status == AgentStatus.AVAILABLE


def test_a_supervisor_cannot_plan_an_approved_break_for_themselves(lead):
    with pytest.raises(NotAllowed, match="You cannot plan an approved break for yourself"):
        break_request(agent=lead, break_type=break_type_get(code=BreakKind.SHORT), actor=lead.user, approved=True)

    assert not Break.objects.filter(agent=lead).exists()


def test_another_supervisor_approves_and_the_agent_takes_it(lead, colleague):
    brk = _own_request(lead)

    break_approve(brk=brk, actor=colleague)
    break_start(brk=brk, actor=lead.user)

    lead.refresh_from_db()
    assert (brk.status, brk.approved_by) == (BreakStatus.STARTED, colleague)
    assert lead.status == AgentStatus.ON_BREAK


def test_a_break_approved_by_its_own_agent_before_the_rule_cannot_be_started_by_them(lead, colleague):
    brk = _own_request(lead)
    Break.objects.filter(pk=brk.pk).update(status=BreakStatus.APPROVED, approved_by=lead.user)  # an old row

    with pytest.raises(NotAllowed, match="You approved this break yourself"):
        break_start(brk=brk, actor=lead.user)
    break_start(brk=brk, actor=colleague)  # someone else may: starting it is their decision

    lead.refresh_from_db()
    assert lead.status == AgentStatus.ON_BREAK


def test_the_api_answers_403_with_the_reason_and_leaves_the_break_requested(lead, colleague):
    mine = APIClient()
    mine.force_login(lead.user)
    created = mine.post("/api/v1/breaks/", {"break_type": "short"})
    assert created.status_code == 201, created.content
    url = f"/api/v1/breaks/{created.json()['id']}"

    approved = mine.post(f"{url}/approve", {})
    denied = mine.post(f"{url}/deny", {})

    assert approved.status_code == 403
    assert approved.json()["code"] == "own_break"
    assert approved.json()["detail"].startswith("You cannot approve your own break")
    assert denied.status_code == 403
    assert Break.objects.get().status == BreakStatus.REQUESTED
    theirs = APIClient()
    theirs.force_login(colleague)
    assert theirs.post(f"{url}/approve", {}).json()["status"] == "approved"


def test_the_admin_board_and_break_actions_refuse_with_a_message(lead):
    client = Client()
    client.force_login(lead.user)
    brk = _own_request(lead)
    board = reverse("admin:agents_agent_board_operation", args=[lead.pk])

    approve = client.post(board, {"op": "approve"})
    send = client.post(board, {"op": "send_break"})
    action = client.post(reverse("admin:agents_break_changelist"), {"action": "approve", "_selected_action": [brk.pk]})

    said = [[str(m) for m in get_messages(r.wsgi_request)] for r in (approve, send, action)]
    assert said[0][-1].startswith("Lee Lead: You cannot approve your own break")
    assert said[1][-1].startswith("Lee Lead: You cannot send yourself on a break")
    assert said[2][-1].startswith("Lee Lead · Lunch (Requested): You cannot approve your own break")
    brk.refresh_from_db()
    lead.refresh_from_db()
    assert brk.status == BreakStatus.REQUESTED
    assert lead.status == AgentStatus.AVAILABLE
