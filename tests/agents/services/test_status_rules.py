"""Which statuses a person may set (agents.status_rules), through the service, the API and the console."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from agents.breaks import break_approve, break_request, break_start, break_type_get
from agents.choices import AgentStatus, BreakKind
from agents.models import AgentStatusLog
from agents.services import agent_set_status
from config.errors import NotAllowed
from tests.agents.factories import AgentFactory, BreakPolicyFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

A = AgentStatus


@pytest.fixture
def team(db):
    return TeamFactory(name="Floor")


@pytest.fixture
def agent(team):
    agent = AgentFactory(team=team, name="Ann Agent")
    agent_set_status(agent=agent, status=A.AVAILABLE)
    return agent


@pytest.fixture
def supervisor(team):
    user = UserFactory(username="sup")
    team.supervisors.add(user)
    return user


@pytest.mark.parametrize("status", [A.NOT_READY, A.OFFLINE, A.ON_BREAK])
def test_without_a_break_policy_an_agent_sets_themselves_not_ready_offline_or_on_break(agent, status):
    agent_set_status(agent=agent, status=status, actor=agent.user)

    agent.refresh_from_db()
    assert agent.status == status


@pytest.mark.parametrize("status", [A.BUSY, A.WRAP_UP])
def test_busy_and_wrap_up_follow_from_work_not_from_the_agent(agent, status):
    if status == A.WRAP_UP:
        agent_set_status(agent=agent, status=A.BUSY)  # wrap-up follows busy
    with pytest.raises(NotAllowed, match="it follows from your work"):
        agent_set_status(agent=agent, status=status, actor=agent.user)

    agent_set_status(agent=agent, status=status)  # the system (or an integrator's key) still may
    agent.refresh_from_db()
    assert agent.status == status


def test_under_a_break_policy_an_agent_requests_a_break_instead_of_setting_on_break(agent, team, supervisor):
    BreakPolicyFactory(team=team)

    with pytest.raises(NotAllowed, match="request a break; you take it once a supervisor approves it"):
        agent_set_status(agent=agent, status=A.ON_BREAK, actor=agent.user)
    with pytest.raises(NotAllowed, match="Ann Agent's team's break policy"):
        agent_set_status(agent=agent, status=A.ON_BREAK, actor=supervisor)
    agent.refresh_from_db()
    assert agent.status == A.AVAILABLE

    brk = break_request(agent=agent, break_type=break_type_get(code=BreakKind.SHORT), actor=agent.user)
    break_approve(brk=brk, actor=supervisor)
    break_start(brk=brk, actor=agent.user)  # taking the approved break is the agent's own

    agent.refresh_from_db()
    assert agent.status == A.ON_BREAK
    assert AgentStatusLog.objects.filter(agent=agent, status=A.ON_BREAK).get().actor == agent.user


def test_an_inactive_policy_asks_for_nothing(agent, team):
    BreakPolicyFactory(team=team, is_active=False)

    agent_set_status(agent=agent, status=A.ON_BREAK, actor=agent.user)

    agent.refresh_from_db()
    assert agent.status == A.ON_BREAK


def test_the_api_answers_403_to_an_agent_going_on_break_under_a_policy(agent, team):
    BreakPolicyFactory(team=team)
    client = APIClient()
    client.force_login(agent.user)

    refused = client.post(f"/api/v1/agents/{agent.pk}/status", {"status": "on_break"})
    busy = client.post(f"/api/v1/agents/{agent.pk}/status", {"status": "busy"})
    ready = client.post(f"/api/v1/agents/{agent.pk}/status", {"status": "not_ready"})

    assert refused.status_code == 403
    assert refused.json()["code"] == "break_approval_required"
    assert busy.status_code == 403 and busy.json()["code"] == "status_not_self_service"
    assert ready.status_code == 200 and ready.json()["status"] == "not_ready"


def test_the_console_shows_why_on_break_is_refused(agent, team):
    BreakPolicyFactory(team=team)
    client = Client()
    client.force_login(agent.user)

    response = client.post("/console/status/", {"status": "on_break"})

    assert response.status_code == 409
    assert "break policy asks for breaks to be requested and approved" in response.content.decode()
    agent.refresh_from_db()
    assert agent.status == A.AVAILABLE
