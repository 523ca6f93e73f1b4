"""/api/v1/teams/: reads narrowed to the caller's teams; writes need `admin`."""

import pytest

from agents.models import Team
from crm.access.services.api_keys import api_key_create
from tests.agents.factories import AgentFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/teams/"


def detail(team_id) -> str:
    return f"{URL}{team_id}/"


def test_create_returns_the_team_with_supervisor_ids(admin_client_api):
    boss_1, boss_2 = UserFactory.create_batch(2)
    response = admin_client_api.post(
        URL, {"name": "Billing", "description": "invoices", "supervisors": [boss_2.pk, boss_1.pk]}
    )
    assert response.status_code == 201, response.content
    team = Team.objects.get()
    assert response.json() == {
        "id": team.pk,
        "name": "Billing",
        "description": "invoices",
        "supervisors": sorted([boss_1.pk, boss_2.pk]),
        "agent_count": 0,
        "created_at": response.json()["created_at"],
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": " "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "Billing", "supervisors": "1"}, "supervisors"),
        ({"name": "Billing", "supervisors": ["me"]}, "supervisors"),
        ({"name": "Billing", "supervisors": [999999]}, "supervisors"),
        ({"name": "Billing", "supervisors": list(range(1, 102))}, "supervisors"),
        ({"name": "Billing", "members": []}, "members"),
    ],
)
def test_create_rejects_bad_input_and_writes_nothing(admin_client_api, body, field):
    response = admin_client_api.post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Team.objects.exists()


def test_unknown_supervisor_id_is_named(admin_client_api):
    response = admin_client_api.post(URL, {"name": "Billing", "supervisors": [424242]})
    assert response.json()["supervisors"] == ["Unknown user id(s): 424242."]


def test_create_rejects_a_taken_name(admin_client_api):
    TeamFactory(name="Billing")
    assert admin_client_api.post(URL, {"name": "billing"}).status_code == 400
    assert Team.objects.count() == 1


@pytest.mark.parametrize("scopes", [["read"], ["read", "write"]])
def test_writes_need_the_admin_scope(key_client_factory, scopes):
    client = key_client_factory(scopes)
    team = TeamFactory(name="Billing")
    assert client.post(URL, {"name": "Tech"}).status_code == 403
    assert client.patch(detail(team.pk), {"name": "Tech"}).status_code == 403
    assert client.delete(detail(team.pk)).status_code == 403
    assert list(Team.objects.values_list("name", flat=True)) == ["Billing"]


@pytest.mark.parametrize("client_fixture", ["api_client", "revoked_client", "bogus_client"])
def test_without_a_valid_key_everything_is_401(request, client_fixture):
    client = request.getfixturevalue(client_fixture)
    team = TeamFactory()
    assert client.get(URL).status_code == 401
    assert client.get(detail(team.pk)).status_code == 401
    assert client.post(URL, {"name": "Tech"}).status_code == 401
    assert Team.objects.count() == 1


def test_team_bound_key_cannot_create_teams(team_a_admin_key):
    response = team_a_admin_key.post(URL, {"name": "Elsewhere"})
    assert response.status_code == 403
    assert not Team.objects.filter(name="Elsewhere").exists()


def test_list_shows_agent_counts(read_client):
    team = TeamFactory(name="Billing")
    AgentFactory.create_batch(2, team=team)
    TeamFactory(name="Tech")
    results = read_client.get(URL).json()["results"]
    assert [(t["name"], t["agent_count"]) for t in results] == [("Billing", 2), ("Tech", 0)]


def test_list_filters_by_name(read_client):
    TeamFactory(name="Billing"), TeamFactory(name="Tech")
    assert [t["name"] for t in read_client.get(URL, {"q": "TEC"}).json()["results"]] == ["Tech"]


def test_team_bound_key_sees_only_its_team(team_a_write_key, team_a, team_b):
    assert [t["id"] for t in team_a_write_key.get(URL).json()["results"]] == [team_a.pk]
    assert team_a_write_key.get(detail(team_b.pk)).status_code == 404


def test_supervisor_sees_the_teams_they_supervise(session_client, supervisor_a, team_a, team_b):
    client = session_client(supervisor_a)
    assert [t["id"] for t in client.get(URL).json()["results"]] == [team_a.pk]
    assert client.get(detail(team_b.pk)).status_code == 404


def test_agent_sees_their_own_team(session_client, agent_a, team_a, team_b):
    client = session_client(agent_a.user)
    assert [t["id"] for t in client.get(URL).json()["results"]] == [team_a.pk]
    assert client.get(detail(team_b.pk)).status_code == 404


def test_user_without_team_sees_none(session_client):
    TeamFactory()
    assert session_client(UserFactory()).get(URL).json()["results"] == []


def test_team_bound_admin_key_gets_404_on_other_teams(team_a_admin_key, team_b):
    assert team_a_admin_key.get(detail(team_b.pk)).status_code == 404
    assert team_a_admin_key.patch(detail(team_b.pk), {"name": "Taken over"}).status_code == 404
    assert team_a_admin_key.delete(detail(team_b.pk)).status_code == 404
    assert Team.objects.get(pk=team_b.pk).name == "Team B"


def test_team_bound_admin_key_describes_its_own_team_but_cannot_hand_out_supervision(
    team_a_admin_key, team_a, supervisor_a
):
    described = team_a_admin_key.patch(detail(team_a.pk), {"description": "first line"})
    assert described.status_code == 200 and described.json()["description"] == "first line"

    boss = UserFactory()
    response = team_a_admin_key.patch(detail(team_a.pk), {"description": "second", "supervisors": [boss.pk]})
    assert response.status_code == 403
    assert response.json()["detail"] == "Only an administrator may change who supervises a team."
    team_a.refresh_from_db()
    assert team_a.description == "first line" and list(team_a.supervisors.all()) == [supervisor_a]


def test_team_bound_admin_key_cannot_delete_its_team(team_a_admin_key, team_a):
    response = team_a_admin_key.delete(detail(team_a.pk))
    assert response.status_code == 403 and Team.objects.filter(pk=team_a.pk).exists()


@pytest.mark.parametrize("target", ["own team", "other team"])
def test_supervisor_cannot_make_themselves_a_supervisor_through_the_api(
    session_client, supervisor_a, team_a, team_b, target
):
    supervisor_a.is_staff = True  # what a supervisor is, to use the admin: it must not matter here
    supervisor_a.save()
    team = team_a if target == "own team" else team_b
    other = UserFactory()
    response = session_client(supervisor_a).patch(detail(team.pk), {"supervisors": [supervisor_a.pk, other.pk]})
    assert response.status_code in (403, 404)
    assert set(team_b.supervisors.all()) == set() and set(team_a.supervisors.all()) == {supervisor_a}
    created = session_client(supervisor_a).post(URL, {"name": "Mine", "supervisors": [supervisor_a.pk]})
    assert created.status_code == 403 and not Team.objects.filter(name="Mine").exists()


def test_patch_changes_only_given_fields(admin_client_api):
    boss = UserFactory()
    team = TeamFactory(name="Billing", description="keep me")
    team.supervisors.add(boss)
    response = admin_client_api.patch(detail(team.pk), {"name": "Invoices"})
    assert response.status_code == 200
    assert (response.json()["description"], response.json()["supervisors"]) == ("keep me", [boss.pk])


def test_patch_with_empty_supervisors_clears_them(admin_client_api):
    team = TeamFactory()
    team.supervisors.add(UserFactory())
    assert admin_client_api.patch(detail(team.pk), {"supervisors": []}).json()["supervisors"] == []


def test_patch_rejects_bad_input_and_changes_nothing(admin_client_api):
    team = TeamFactory(name="Billing")
    assert admin_client_api.patch(detail(team.pk), {"name": ""}).status_code == 400
    assert admin_client_api.patch(detail(team.pk), {"supervisors": [999999]}).status_code == 400
    assert admin_client_api.patch(detail(team.pk), {"colour": "red"}).status_code == 400
    assert Team.objects.get(pk=team.pk).name == "Billing"


def test_delete_empty_team(admin_client_api):
    team = TeamFactory()
    assert admin_client_api.delete(detail(team.pk)).status_code == 204
    assert not Team.objects.exists()


def test_delete_team_with_agents_or_keys_is_409(admin_client_api):
    team = TeamFactory()
    AgentFactory(team=team)
    api_key_create(name="team key", scopes=["read"], team=team)
    response = admin_client_api.delete(detail(team.pk))
    assert response.status_code == 409 and "1 agent" in response.json()["detail"]
    assert Team.objects.filter(pk=team.pk).exists()


def test_list_query_count_does_not_grow_with_rows(read_client, django_assert_max_num_queries):
    def make(n):
        for team in TeamFactory.create_batch(n):
            team.supervisors.add(UserFactory())
            AgentFactory(team=team)

    make(5)
    read_client.get(URL)  # the key's first use records last_used_at once
    with django_assert_max_num_queries(3):
        assert len(read_client.get(URL).json()["results"]) == 5
    make(45)
    with django_assert_max_num_queries(3):
        assert len(read_client.get(URL).json()["results"]) == 50
