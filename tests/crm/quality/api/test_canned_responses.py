import pytest
from django.db import IntegrityError
from django.urls import reverse
from rest_framework.test import APIClient

from tests.agents.factories import AgentFactory, TeamFactory
from tests.crm.factories import CannedResponseFactory, QueueFactory

pytestmark = pytest.mark.django_db

LIST = reverse("v1:crm-api:canned-response-list")


def agent_client(agent) -> APIClient:
    client = APIClient()
    client.force_login(agent.user)
    return client


def titles(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [item["title"] for item in response.json()["results"]]


@pytest.fixture
def setup():
    team, other_team = TeamFactory(), TeamFactory()
    own, foreign, shared = QueueFactory(team=team), QueueFactory(team=other_team), QueueFactory(team=None)
    CannedResponseFactory(title="Global greeting", shortcut="hi", body="Hello!")
    CannedResponseFactory(title="Own refund", queue=own, body="Your refund is on its way.")
    CannedResponseFactory(title="Shared queue note", queue=shared, body="Noted.")
    CannedResponseFactory(title="Foreign secret", queue=foreign, body="Classified.")
    CannedResponseFactory(title="Old own", queue=own, is_active=False, body="Outdated.")
    return {"agent": AgentFactory(team=team), "own": own, "foreign": foreign, "shared": shared}


def test_agent_sees_active_responses_of_their_queues_and_global_ones_alphabetically(setup):
    response = agent_client(setup["agent"]).get(LIST)

    assert titles(response) == ["Global greeting", "Own refund", "Shared queue note"]
    first = response.json()["results"][0]
    assert first["shortcut"] == "hi" and first["body"] == "Hello!" and first["queue"] is None
    assert first["is_active"] is True


def test_queue_parameter_gives_that_queues_responses_and_the_global_ones(setup):
    client = agent_client(setup["agent"])

    assert titles(client.get(LIST, {"queue": setup["own"].pk})) == ["Global greeting", "Own refund"]
    # another team's queue shows only what is global: the filter never widens the agent's view
    assert titles(client.get(LIST, {"queue": setup["foreign"].pk})) == ["Global greeting"]


def test_search_matches_title_shortcut_or_body_case_insensitively(setup):
    client = agent_client(setup["agent"])

    assert titles(client.get(LIST, {"search": "REFUND"})) == ["Own refund"]
    assert titles(client.get(LIST, {"search": "hi"})) == ["Global greeting"]
    assert titles(client.get(LIST, {"search": "on its way"})) == ["Own refund"]


def test_unrestricted_key_sees_all_and_can_filter_inactive(setup, read_client):
    assert len(titles(read_client.get(LIST))) == 5
    assert titles(read_client.get(LIST, {"is_active": "false"})) == ["Old own"]


def test_team_bound_key_sees_only_its_teams_and_global_ones(setup, key_client_factory):
    client = key_client_factory(["read"], team=setup["foreign"].team)

    assert titles(client.get(LIST)) == ["Foreign secret", "Global greeting", "Shared queue note"]


@pytest.mark.parametrize(
    "params", [{"queue": "abc"}, {"queue": "0"}, {"queue": ""}, {"is_active": "maybe"}, {"page_size": "0"}]
)
def test_malformed_parameters_are_a_400_with_the_field_named(setup, read_client, params):
    response = read_client.get(LIST, params)

    assert response.status_code == 400
    assert set(params) <= set(response.json())


def test_listing_needs_authentication(api_client):
    assert api_client.get(LIST).status_code in (401, 403)


def test_writes_are_not_offered(read_client, admin_client_api):
    assert admin_client_api.post(LIST, {"title": "x", "body": "y"}, format="json").status_code == 405


def test_shortcuts_are_unique_regardless_of_case_but_may_be_left_empty():
    CannedResponseFactory(shortcut="")
    CannedResponseFactory(shortcut="")
    CannedResponseFactory(shortcut="Thanks")

    with pytest.raises(IntegrityError):
        CannedResponseFactory(shortcut="thanks")
