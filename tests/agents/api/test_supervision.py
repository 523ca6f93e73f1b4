"""Training and breaks over the API: who may read and do what, and input errors as field messages."""

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.breaks import break_request, break_send_now, break_type_get
from agents.choices import AgentStatus, BreakKind, BreakStatus
from agents.models import Break
from agents.services import agent_set_status
from agents.training import training_assign, training_record_result
from tests.agents.factories import AgentFactory, BreakPolicyFactory, TrainingCourseFactory, UserFactory

pytestmark = pytest.mark.django_db


def _breaks(client, **params):
    response = client.get("/api/v1/breaks/", params)
    assert response.status_code == 200, response.content
    return response.json()["results"]


# --- training ------------------------------------------------------------------------------------


def test_agent_reads_own_training_but_not_anothers(session_client, agent_a, agent_b):
    course = TrainingCourseFactory(title="Refunds", pass_score=70)
    (record,) = training_assign(course=course, agents=[agent_a]).created
    training_record_result(record=record, score=90)
    training_assign(course=course, agents=[agent_b])
    client = session_client(agent_a.user)

    own = client.get(f"/api/v1/agents/{agent_a.pk}/training")
    other = client.get(f"/api/v1/agents/{agent_b.pk}/training")

    assert own.status_code == 200
    (row,) = own.json()
    assert (row["course_title"], row["status"], row["score"]) == ("Refunds", "passed", 90)
    assert row["expires_at"] is not None
    assert other.status_code == 404


def test_supervisor_reads_their_teams_training_only(session_client, supervisor_a, agent_a, agent_b):
    training_assign(course=TrainingCourseFactory(), agents=[agent_a, agent_b])
    client = session_client(supervisor_a)
    assert len(client.get(f"/api/v1/agents/{agent_a.pk}/training").json()) == 1
    assert client.get(f"/api/v1/agents/{agent_b.pk}/training").status_code == 404


# --- breaks --------------------------------------------------------------------------------------


def test_agent_requests_and_takes_own_break_after_approval(session_client, supervisor_a, agent_a):
    agent_set_status(agent=agent_a, status=AgentStatus.AVAILABLE)
    agent = session_client(agent_a.user)

    created = agent.post("/api/v1/breaks/", {"break_type": "short", "reason": "coffee"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["minutes"], body["agent"]) == ("requested", 5, agent_a.pk)

    refused = agent.post(f"/api/v1/breaks/{body['id']}/approve", {})
    assert refused.status_code == 403  # an agent cannot approve their own break

    approved = session_client(supervisor_a).post(f"/api/v1/breaks/{body['id']}/approve", {})
    assert approved.status_code == 200 and approved.json()["approved_by"] == supervisor_a.pk

    started = agent.post(f"/api/v1/breaks/{body['id']}/start")
    assert started.status_code == 200 and started.json()["status"] == "started"
    agent_a.refresh_from_db()
    assert agent_a.status == AgentStatus.ON_BREAK

    ended = agent.post(f"/api/v1/breaks/{body['id']}/end")
    assert ended.status_code == 200 and ended.json()["status"] == "ended"


def test_agents_cannot_see_or_act_on_others_breaks(session_client, agent_a, agent_b):
    other = break_request(agent=agent_b, break_type=break_type_get(code=BreakKind.SHORT), actor=None)
    break_request(agent=agent_a, break_type=break_type_get(code=BreakKind.SHORT), actor=None)
    client = session_client(agent_a.user)

    assert [b["agent"] for b in _breaks(client)] == [agent_a.pk]
    assert client.get(f"/api/v1/breaks/{other.pk}").status_code == 404
    assert client.post(f"/api/v1/breaks/{other.pk}/start").status_code == 404
    refused = client.post("/api/v1/breaks/", {"break_type": "short", "agent": agent_b.pk})
    assert refused.status_code == 400 and "agent" in refused.json()


def test_agent_in_the_same_team_cannot_plan_a_break_for_a_colleague(session_client, team_a, agent_a):
    colleague = AgentFactory(team=team_a)
    response = session_client(agent_a.user).post("/api/v1/breaks/", {"break_type": "short", "agent": colleague.pk})
    assert response.status_code in (400, 403)
    assert not Break.objects.exists()


def test_supervisor_lists_their_teams_breaks_and_plans_one_approved(session_client, supervisor_a, agent_a, agent_b):
    break_request(agent=agent_b, break_type=break_type_get(code=BreakKind.SHORT), actor=None)
    client = session_client(supervisor_a)
    later = (timezone.now() + timedelta(hours=1)).isoformat()

    planned = client.post("/api/v1/breaks/", {"break_type": "coaching", "agent": agent_a.pk, "scheduled_for": later})

    assert planned.status_code == 201, planned.content
    assert (planned.json()["status"], planned.json()["minutes"]) == ("scheduled", 15)
    assert [b["agent"] for b in _breaks(client)] == [agent_a.pk]
    assert _breaks(client, status="scheduled")[0]["id"] == planned.json()["id"]


def test_supervisor_cannot_act_on_another_teams_break(session_client, supervisor_a, agent_b):
    other = break_request(agent=agent_b, break_type=break_type_get(code=BreakKind.SHORT), actor=None)
    client = session_client(supervisor_a)
    for verb in ["approve", "deny", "start", "end"]:
        assert client.post(f"/api/v1/breaks/{other.pk}/{verb}", {}).status_code == 404
    other.refresh_from_db()
    assert other.status == BreakStatus.REQUESTED


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "break_type"),
        ({"break_type": "nap"}, "break_type"),
        ({"break_type": "short", "minutes": 0}, "minutes"),
        ({"break_type": "short", "minutes": 481}, "minutes"),
        ({"break_type": "short", "reason": 12}, "reason"),
        ({"break_type": "short", "scheduled_for": "yesterday"}, "scheduled_for"),
        ({"break_type": "short", "scheduled_for": "2001-01-01T00:00:00Z"}, "scheduled_for"),
        ({"break_type": "short", "colour": "red"}, "colour"),
    ],
)
def test_break_request_validation_errors(session_client, agent_a, body, field):
    response = session_client(agent_a.user).post("/api/v1/breaks/", body)
    assert response.status_code == 400
    assert field in response.json()
    assert not Break.objects.exists()


def test_second_request_and_start_over_cap_are_conflicts_with_messages(session_client, team_a, agent_a):
    BreakPolicyFactory(team=team_a, max_on_break_share="0.10")
    busy_colleague = AgentFactory(team=team_a)
    for agent in (agent_a, busy_colleague):
        agent_set_status(agent=agent, status=AgentStatus.AVAILABLE)
    break_send_now(agent=busy_colleague, actor=None)
    client = session_client(agent_a.user)
    brk = break_request(agent=agent_a, break_type=break_type_get(code=BreakKind.SHORT), actor=None, approved=True)

    again = client.post("/api/v1/breaks/", {"break_type": "lunch"})
    over_cap = client.post(f"/api/v1/breaks/{brk.pk}/start")

    assert again.status_code == 409 and "waiting to be taken" in again.json()["detail"]
    assert over_cap.status_code == 409 and "on break already" in over_cap.json()["detail"]


def test_api_key_without_agent_must_name_one(write_client):
    response = write_client.post("/api/v1/breaks/", {"break_type": "short"})
    assert response.status_code == 400 and "agent" in response.json()


def test_a_staff_supervisor_is_still_limited_to_their_teams(session_client, team_a, agent_a, agent_b):
    staff_supervisor = UserFactory(is_staff=True)
    team_a.supervisors.add(staff_supervisor)
    own = break_request(agent=agent_a, break_type=break_type_get(code=BreakKind.SHORT), actor=None)
    other = break_request(agent=agent_b, break_type=break_type_get(code=BreakKind.SHORT), actor=None)
    client = session_client(staff_supervisor)

    assert [b["id"] for b in _breaks(client)] == [own.pk]
    assert client.post(f"/api/v1/breaks/{other.pk}/approve", {}).status_code == 404
    assert client.post(f"/api/v1/breaks/{own.pk}/approve", {}).status_code == 200


def test_break_list_query_count_does_not_grow_with_rows(
    session_client, supervisor_a, team_a, django_assert_max_num_queries
):
    for agent in AgentFactory.create_batch(6, team=team_a):
        break_request(agent=agent, break_type=break_type_get(code=BreakKind.SHORT), actor=None)
    client = session_client(supervisor_a)
    with django_assert_max_num_queries(8):
        assert len(_breaks(client)) == 6
