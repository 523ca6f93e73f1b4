"""/api/v1/agents/: profiles (writes `admin`), status changes (`write`), status log, and /me."""

import pytest
from django.contrib.auth import get_user_model

from agents.models import Agent, AgentSkill, AgentStatusLog
from agents.services import agent_set_status
from tests.agents.factories import AgentFactory, AgentSkillFactory, SkillFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db
User = get_user_model()

URL = "/api/v1/agents/"


def detail(agent_id) -> str:
    return f"{URL}{agent_id}/"


def status_url(agent_id) -> str:
    return f"{URL}{agent_id}/status"


def log_url(agent_id) -> str:
    return f"{URL}{agent_id}/status-log/"


@pytest.fixture
def new_agent_body(team_a):
    billing, spanish = SkillFactory(name="Billing"), SkillFactory(name="Spanish")
    return {
        "username": "maria",
        "name": "Maria Lopez",
        "email": "maria@example.com",
        "team": team_a.pk,
        "capacity": {"voice": 1, "chat": 3, "email": 5},
        "skills": [{"skill": spanish.pk, "level": 5}, {"skill": billing.pk, "level": 2}],
    }


def _nothing_created():
    return not Agent.objects.exists() and not User.objects.filter(username="maria").exists()


# --- create --------------------------------------------------------------------------------------------------


def test_create_returns_the_documented_shape(admin_client_api, new_agent_body, team_a):
    response = admin_client_api.post(URL, new_agent_body)

    assert response.status_code == 201, response.content
    agent = Agent.objects.select_related("user").get()
    body = response.json()
    assert body == {
        "id": agent.pk,
        "username": "maria",
        "name": "Maria Lopez",
        "email": "maria@example.com",
        "team": team_a.pk,
        "capacity": {"voice": 1, "chat": 3, "email": 5},
        "skills": [
            {"skill": new_agent_body["skills"][1]["skill"], "name": "Billing", "level": 2},
            {"skill": new_agent_body["skills"][0]["skill"], "name": "Spanish", "level": 5},
        ],
        "status": "offline",
        "status_changed_at": None,
        "is_active": True,
        "created_at": body["created_at"],
    }
    assert not agent.user.has_usable_password()


def test_create_with_only_username_and_name(admin_client_api):
    response = admin_client_api.post(URL, {"username": "maria", "name": "Maria"})
    assert response.status_code == 201
    assert (response.json()["team"], response.json()["capacity"], response.json()["skills"]) == (None, {}, [])


def test_staff_session_can_create(staff_client):
    assert staff_client.post(URL, {"username": "maria", "name": "Maria"}).status_code == 201


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"password": "hunter2hunter2"}, "password"),
        ({"status": "available"}, "status"),
        ({"is_admin": True}, "is_admin"),
        ({"username": None}, "username"),
        ({"username": ""}, "username"),
        ({"username": "has space"}, "username"),
        ({"username": "x" * 151}, "username"),
        ({"name": ""}, "name"),
        ({"name": {"first": "Maria"}}, "name"),
        ({"email": "not-an-email"}, "email"),
        ({"team": "abc"}, "team"),
        ({"team": 999999}, "team"),
        ({"capacity": "lots"}, "capacity"),
        ({"capacity": [1, 3]}, "capacity"),
        ({"capacity": {"chat": "x"}}, "capacity"),
        ({"capacity": {"chat": True}}, "capacity"),
        ({"capacity": {"chat": 2.5}}, "capacity"),
        ({"capacity": {"chat": -1}}, "capacity"),
        ({"capacity": {"chat": 51}}, "capacity"),
        ({"capacity": {"fax": 1}}, "capacity"),
        ({"skills": "billing"}, "skills"),
        ({"skills": [{"skill": 999999, "level": 3}]}, "skills"),
        ({"skills": [{"skill": "abc", "level": 3}]}, "skills"),
        ({"skills": [{"level": 3}]}, "skills"),
    ],
)
def test_create_rejects_bad_input_with_the_field_named_and_writes_nothing(
    admin_client_api, new_agent_body, change, field
):
    response = admin_client_api.post(URL, {**new_agent_body, **change})
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert _nothing_created()


@pytest.mark.parametrize("level", [0, 6, "high", None])
def test_create_rejects_skill_levels_outside_1_to_5(admin_client_api, new_agent_body, level):
    new_agent_body["skills"][0]["level"] = level
    response = admin_client_api.post(URL, new_agent_body)
    assert response.status_code == 400
    assert "level" in response.json()["skills"]["0"]  # DRF names the failing item by its index
    assert _nothing_created() and not AgentSkill.objects.exists()


def test_create_rejects_unknown_fields_inside_a_skill(admin_client_api, new_agent_body):
    new_agent_body["skills"][0]["years"] = 3
    response = admin_client_api.post(URL, new_agent_body)
    assert response.status_code == 400 and "years" in response.json()["skills"]["0"]
    assert _nothing_created()


def test_create_rejects_a_skill_listed_twice(admin_client_api, new_agent_body):
    new_agent_body["skills"][1]["skill"] = new_agent_body["skills"][0]["skill"]
    assert admin_client_api.post(URL, new_agent_body).status_code == 400
    assert _nothing_created()


def test_create_rejects_a_taken_username(admin_client_api, new_agent_body):
    UserFactory(username="Maria")
    response = admin_client_api.post(URL, new_agent_body)
    assert response.status_code == 400 and "already taken" in response.json()["username"][0]
    assert not Agent.objects.exists() and User.objects.count() == 1


@pytest.mark.parametrize("body", [[], "maria", 42, None])
def test_create_rejects_a_body_that_is_not_an_object(admin_client_api, body):
    assert admin_client_api.post(URL, body, format="json").status_code == 400
    assert _nothing_created()


def test_create_rejects_an_oversize_body(admin_client_api, new_agent_body):
    response = admin_client_api.post(URL, {**new_agent_body, "name": "M" * (1024 * 1024 + 1)})
    assert response.status_code in (400, 413)
    assert _nothing_created()


@pytest.mark.parametrize("scopes", [["read"], ["read", "write"]])
def test_create_needs_the_admin_scope(key_client_factory, new_agent_body, scopes):
    assert key_client_factory(scopes).post(URL, new_agent_body).status_code == 403
    assert _nothing_created()


def test_supervisor_session_cannot_create(session_client, supervisor_a, new_agent_body):
    assert session_client(supervisor_a).post(URL, new_agent_body).status_code == 403
    assert _nothing_created()


@pytest.mark.parametrize("client_fixture", ["api_client", "revoked_client", "bogus_client"])
def test_without_a_valid_key_everything_is_401(request, client_fixture, agent_a, new_agent_body):
    client = request.getfixturevalue(client_fixture)
    assert client.get(URL).status_code == 401
    assert client.get(detail(agent_a.pk)).status_code == 401
    assert client.post(URL, new_agent_body).status_code == 401
    assert client.patch(detail(agent_a.pk), {"name": "X"}).status_code == 401
    assert client.post(status_url(agent_a.pk), {"status": "available"}).status_code == 401
    assert client.get(log_url(agent_a.pk)).status_code == 401
    assert client.get(f"{URL}me/").status_code == 401
    assert Agent.objects.get(pk=agent_a.pk).status == "offline"
    assert Agent.objects.count() == 1 and not User.objects.filter(username="maria").exists()


def test_team_bound_key_creates_agents_in_its_team(team_a_admin_key, new_agent_body, team_a):
    assert team_a_admin_key.post(URL, new_agent_body).status_code == 201
    assert Agent.objects.get().team == team_a


@pytest.mark.parametrize("team", ["other", None, "missing"])
def test_team_bound_key_cannot_create_agents_outside_its_team(team_a_admin_key, new_agent_body, team_b, team):
    if team == "missing":
        del new_agent_body["team"]
    else:
        new_agent_body["team"] = team_b.pk if team == "other" else None
    response = team_a_admin_key.post(URL, new_agent_body)
    assert response.status_code == 400 and "team" in response.json()
    assert _nothing_created()


# --- read ----------------------------------------------------------------------------------------------------


def test_list_and_retrieve(read_client, agent_a, agent_b):
    AgentSkillFactory(agent=agent_a, skill__name="Billing", level=4)
    results = read_client.get(URL).json()["results"]
    assert [a["username"] for a in results] == ["alice", "bob"]
    body = read_client.get(detail(agent_a.pk)).json()
    assert (body["name"], body["skills"][0]["name"], body["skills"][0]["level"]) == ("Alice A", "Billing", 4)


def test_list_filters(read_client, team_a, team_b):
    billing = SkillFactory(name="Billing")
    ann = AgentFactory(name="Ann", team=team_a, user__username="ann")
    AgentSkillFactory(agent=ann, skill=billing)
    busy = AgentFactory(name="Ben", team=team_b, status="busy", user__username="ben")
    gone = AgentFactory(name="Cat", team=team_a, is_active=False, user__username="cat-x")

    def names(**params):
        response = read_client.get(URL, params)
        assert response.status_code == 200, response.content
        return [a["name"] for a in response.json()["results"]]

    assert names(team=team_a.pk) == ["Ann", "Cat"]
    assert names(status="busy") == [busy.name]
    assert names(skill=billing.pk) == ["Ann"]
    assert names(is_active="false") == [gone.name]
    assert names(q="be") == ["Ben"]  # name
    assert names(q="CAT-") == ["Cat"]  # username
    assert names(team=team_a.pk, is_active="true") == ["Ann"]


@pytest.mark.parametrize("params", [{"status": "lunch"}, {"team": "abc"}, {"skill": "x"}, {"is_active": "maybe"}])
def test_list_rejects_bad_filter_values(read_client, params):
    response = read_client.get(URL, params)
    assert response.status_code == 400 and list(params)[0] in response.json()


def test_list_pages_with_a_cursor(read_client):
    AgentFactory.create_batch(5)
    first = read_client.get(URL, {"page_size": 3}).json()
    second = read_client.get(first["next"]).json()
    ids = [a["id"] for a in first["results"] + second["results"]]
    assert len(first["results"]) == 3 and len(ids) == len(set(ids)) == 5 and second["next"] is None


@pytest.mark.parametrize("agent_id", ["999999", "abc", "99999999999999999999"])
def test_unknown_agent_is_404(read_client, agent_id):
    assert read_client.get(f"{URL}{agent_id}/").status_code == 404


def test_team_bound_key_lists_its_team_only(team_a_write_key, agent_a, agent_b):
    assert [a["id"] for a in team_a_write_key.get(URL).json()["results"]] == [agent_a.pk]


def test_supervisor_lists_their_team_and_themselves(session_client, supervisor_a, agent_a, agent_b, team_b):
    own = AgentFactory(user=supervisor_a, team=team_b, name="Sup A")
    ids = [a["id"] for a in session_client(supervisor_a).get(URL).json()["results"]]
    assert ids == [agent_a.pk, own.pk]


def test_agent_lists_only_themselves(session_client, agent_a, team_a):
    AgentFactory(team=team_a)  # a teammate
    assert [a["id"] for a in session_client(agent_a.user).get(URL).json()["results"]] == [agent_a.pk]


def test_user_who_is_no_agent_lists_nobody(session_client, agent_a):
    assert session_client(UserFactory()).get(URL).json()["results"] == []


def test_list_query_count_does_not_grow_with_rows(read_client, django_assert_max_num_queries):
    def make(n):
        for agent in AgentFactory.create_batch(n):
            AgentSkillFactory.create_batch(2, agent=agent)

    make(5)
    read_client.get(URL)  # the key's first use records last_used_at once
    with django_assert_max_num_queries(3):
        assert len(read_client.get(URL).json()["results"]) == 5
    make(45)
    with django_assert_max_num_queries(3):
        assert len(read_client.get(URL).json()["results"]) == 50


def test_supervisor_list_query_count_does_not_grow_with_rows(
    session_client, supervisor_a, team_a, django_assert_max_num_queries
):
    # session, user, the viewer's agent profile, Administrator group, supervised teams, agents, their skills
    client = session_client(supervisor_a)
    AgentFactory.create_batch(5, team=team_a)
    with django_assert_max_num_queries(7):
        assert len(client.get(URL).json()["results"]) == 5
    AgentFactory.create_batch(45, team=team_a)
    with django_assert_max_num_queries(7):
        assert len(client.get(URL).json()["results"]) == 50


# --- update --------------------------------------------------------------------------------------------------


def test_patch_changes_profile_capacity_team_and_skills(admin_client_api, agent_a, team_b):
    AgentSkillFactory(agent=agent_a, skill__name="Old")
    spanish = SkillFactory(name="Spanish")
    response = admin_client_api.patch(
        detail(agent_a.pk),
        {
            "name": "Alice Z",
            "email": "alice@new.example",
            "team": team_b.pk,
            "capacity": {"chat": 2},
            "skills": [{"skill": spanish.pk, "level": 3}],
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["email"], body["team"], body["capacity"]) == (
        "Alice Z",
        "alice@new.example",
        team_b.pk,
        {"chat": 2},
    )
    assert body["skills"] == [{"skill": spanish.pk, "name": "Spanish", "level": 3}]
    assert list(agent_a.agent_skills.values_list("skill__name", flat=True)) == ["Spanish"]


def test_patch_leaves_other_fields_alone(admin_client_api, agent_a):
    AgentSkillFactory(agent=agent_a)
    response = admin_client_api.patch(detail(agent_a.pk), {"capacity": {"voice": 1}})
    assert response.status_code == 200
    assert (response.json()["name"], len(response.json()["skills"])) == ("Alice A", 1)


def test_patch_can_clear_the_team(admin_client_api, agent_a):
    assert admin_client_api.patch(detail(agent_a.pk), {"team": None}).json()["team"] is None


def test_patch_deactivating_takes_the_agent_offline(admin_client_api, agent_a):
    agent_set_status(agent=agent_a, status="available")
    body = admin_client_api.patch(detail(agent_a.pk), {"is_active": False}).json()
    assert (body["is_active"], body["status"]) == (False, "offline")
    assert AgentStatusLog.objects.filter(agent=agent_a).first().reason == "deactivated"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "available"}, "status"),
        ({"username": "alice2"}, "username"),
        ({"name": ""}, "name"),
        ({"capacity": {"chat": 99}}, "capacity"),
        ({"team": 999999}, "team"),
        ({"skills": [{"skill": 999999, "level": 3}]}, "skills"),
        ({"skills": [{"level": 3}]}, "skills"),
        ({"skills": [{"skill": None, "level": 3}]}, "skills"),
        ({"skills": [{}]}, "skills"),
        ({"is_active": "perhaps"}, "is_active"),
        ({"is_active": None}, "is_active"),
    ],
)
def test_patch_rejects_bad_input_and_changes_nothing(admin_client_api, agent_a, body, field):
    response = admin_client_api.patch(detail(agent_a.pk), body)
    assert response.status_code == 400 and field in response.json()
    agent = Agent.objects.select_related("user").get(pk=agent_a.pk)
    assert (agent.name, agent.status, agent.user.username, agent.is_active) == ("Alice A", "offline", "alice", True)
    assert agent.capacity == agent_a.capacity and agent.team_id == agent_a.team_id


def test_patch_needs_admin_scope(write_client, agent_a):
    assert write_client.patch(detail(agent_a.pk), {"name": "X"}).status_code == 403
    assert Agent.objects.get(pk=agent_a.pk).name == "Alice A"


def test_team_bound_key_cannot_move_an_agent_out_of_its_team(team_a_admin_key, agent_a, team_b):
    for team in (team_b.pk, None):
        response = team_a_admin_key.patch(detail(agent_a.pk), {"team": team}, format="json")
        assert response.status_code == 400 and "team" in response.json()
    assert Agent.objects.get(pk=agent_a.pk).team_id == agent_a.team_id


def test_put_and_delete_are_not_offered(admin_client_api, agent_a):
    assert admin_client_api.put(detail(agent_a.pk), {"name": "X"}).status_code == 405
    assert admin_client_api.delete(detail(agent_a.pk)).status_code == 405
    assert Agent.objects.filter(pk=agent_a.pk).exists()


# --- status --------------------------------------------------------------------------------------------------


def test_status_change_returns_the_agent_and_logs_it(write_client, agent_a):
    response = write_client.post(status_url(agent_a.pk), {"status": "available", "reason": "shift start"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "available" and response.json()["status_changed_at"] is not None
    row = AgentStatusLog.objects.get(agent=agent_a)
    assert (row.previous_status, row.status, row.reason, row.actor) == ("offline", "available", "shift start", None)


def test_status_url_with_trailing_slash_works_too(write_client, agent_a):
    assert write_client.post(f"{status_url(agent_a.pk)}/", {"status": "available"}).status_code == 200


def test_illegal_status_change_is_409_with_a_clear_message_and_nothing_logged(write_client, agent_a):
    agent_set_status(agent=agent_a, status="on_break")
    response = write_client.post(status_url(agent_a.pk), {"status": "busy"})
    assert response.status_code == 409
    assert response.json() == {
        "detail": "Cannot go from on_break to busy; allowed: available, offline.",
        "code": "illegal_transition",
        "status": 409,
    }
    assert Agent.objects.get(pk=agent_a.pk).status == "on_break"
    assert AgentStatusLog.objects.filter(agent=agent_a).count() == 1


def test_not_ready_agent_is_listed_as_such_and_cannot_jump_to_busy(write_client, agent_a):
    agent_set_status(agent=agent_a, status="available")
    assert write_client.post(status_url(agent_a.pk), {"status": "not_ready"}).json()["status"] == "not_ready"

    response = write_client.post(status_url(agent_a.pk), {"status": "busy"})

    assert response.status_code == 409
    assert response.json()["detail"] == "Cannot go from not_ready to busy; allowed: available, offline, on_break."
    assert Agent.objects.get(pk=agent_a.pk).status == "not_ready"


def test_inactive_agent_cannot_become_available_409(write_client, agent_a):
    Agent.objects.filter(pk=agent_a.pk).update(is_active=False)
    assert write_client.post(status_url(agent_a.pk), {"status": "available"}).status_code == 409
    assert not AgentStatusLog.objects.exists()


def test_same_status_again_is_200_and_logs_nothing(write_client, agent_a):
    assert write_client.post(status_url(agent_a.pk), {"status": "offline"}).status_code == 200
    assert not AgentStatusLog.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "lunch"}, "status"),
        ({"status": ""}, "status"),
        ({"status": None}, "status"),
        ({"status": ["available"]}, "status"),
        ({}, "status"),
        ({"status": "available", "reason": "x" * 201}, "reason"),
        ({"status": "available", "until": "17:00"}, "until"),
    ],
)
def test_status_rejects_bad_input_and_logs_nothing(write_client, agent_a, body, field):
    response = write_client.post(status_url(agent_a.pk), body, format="json")
    assert response.status_code == 400 and field in response.json()
    assert Agent.objects.get(pk=agent_a.pk).status == "offline"
    assert not AgentStatusLog.objects.exists()


def test_status_change_needs_the_write_scope(read_client, agent_a):
    assert read_client.post(status_url(agent_a.pk), {"status": "available"}).status_code == 403
    assert not AgentStatusLog.objects.exists()


def test_agent_changes_their_own_status_as_actor(session_client, agent_a):
    response = session_client(agent_a.user).post(status_url(agent_a.pk), {"status": "available"})
    assert response.status_code == 200
    assert AgentStatusLog.objects.get().actor == agent_a.user


def test_agent_cannot_change_a_teammates_status(session_client, agent_a, team_a):
    teammate = AgentFactory(team=team_a)
    assert session_client(agent_a.user).post(status_url(teammate.pk), {"status": "available"}).status_code == 404
    assert not AgentStatusLog.objects.exists()


def test_supervisor_changes_their_teams_agents_status(session_client, supervisor_a, agent_a):
    response = session_client(supervisor_a).post(status_url(agent_a.pk), {"status": "on_break", "reason": "wellbeing"})
    assert response.status_code == 200
    assert AgentStatusLog.objects.get().actor == supervisor_a


def test_team_bound_key_changes_its_teams_agents_status(team_a_write_key, agent_a):
    assert team_a_write_key.post(status_url(agent_a.pk), {"status": "available"}).status_code == 200


# --- status log ----------------------------------------------------------------------------------------------


def test_status_log_lists_changes_newest_first(read_client, agent_a, supervisor_a):
    agent_set_status(agent=agent_a, status="available", actor=supervisor_a, reason="shift")
    agent_set_status(agent=agent_a, status="busy")
    AgentFactory()  # someone else's changes stay out
    response = read_client.get(log_url(agent_a.pk))
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(r["previous_status"], r["status"]) for r in rows] == [("available", "busy"), ("offline", "available")]
    assert (rows[1]["actor"], rows[1]["reason"]) == (supervisor_a.pk, "shift")


def test_status_log_pages_with_a_cursor(read_client, agent_a):
    for status in ["available", "busy", "available", "offline"]:
        agent_set_status(agent=agent_a, status=status)
    first = read_client.get(log_url(agent_a.pk), {"page_size": 3}).json()
    second = read_client.get(first["next"]).json()
    assert [r["status"] for r in first["results"] + second["results"]] == ["offline", "available", "busy", "available"]


def test_status_log_query_count_does_not_grow_with_rows(read_client, agent_a, django_assert_max_num_queries):
    def flip(n):
        for _ in range(n):
            agent_set_status(agent=agent_a, status="available", actor=UserFactory())
            agent_set_status(agent=agent_a, status="offline")

    flip(3)
    read_client.get(log_url(agent_a.pk))
    with django_assert_max_num_queries(3):
        assert len(read_client.get(log_url(agent_a.pk)).json()["results"]) == 6
    flip(22)
    with django_assert_max_num_queries(3):
        assert len(read_client.get(log_url(agent_a.pk)).json()["results"]) == 50


# --- me ------------------------------------------------------------------------------------------------------


def test_me_returns_the_session_users_agent(session_client, agent_a):
    response = session_client(agent_a.user).get(f"{URL}me/")
    assert response.status_code == 200 and response.json()["id"] == agent_a.pk


def test_me_is_404_for_users_without_agent_and_for_keys(session_client, staff_client, read_client, agent_a):
    assert session_client(UserFactory()).get(f"{URL}me/").status_code == 404
    assert staff_client.get(f"{URL}me/").status_code == 404
    assert read_client.get(f"{URL}me/").status_code == 404


# --- object-level authorisation ---------------------------------------------------------------------------------

ID_ENDPOINTS = [
    ("get", detail, None),
    ("patch", detail, {"name": "Taken over"}),
    ("post", status_url, {"status": "available"}),
    ("get", log_url, None),
]


@pytest.mark.parametrize(("method", "url", "body"), ID_ENDPOINTS)
def test_team_bound_admin_key_gets_404_for_other_teams_agents(team_a_admin_key, agent_b, method, url, body):
    agent_set_status(agent=agent_b, status="available")
    response = getattr(team_a_admin_key, method)(url(agent_b.pk), body)
    assert response.status_code == 404
    agent = Agent.objects.get(pk=agent_b.pk)
    assert (agent.name, agent.status, AgentStatusLog.objects.count()) == ("Bob B", "available", 1)


@pytest.mark.parametrize("who", ["supervisor", "agent"])
@pytest.mark.parametrize(("method", "url", "body"), [e for e in ID_ENDPOINTS if e[0] != "patch"])
def test_sessions_of_team_a_get_404_for_team_b_agents(
    session_client, supervisor_a, agent_a, agent_b, who, method, url, body
):
    client = session_client(supervisor_a if who == "supervisor" else agent_a.user)
    assert getattr(client, method)(url(agent_b.pk), body).status_code == 404
    assert Agent.objects.get(pk=agent_b.pk).status == "offline" and not AgentStatusLog.objects.exists()


@pytest.mark.parametrize("who", ["supervisor", "agent"])
def test_sessions_without_admin_cannot_patch_any_agent(session_client, supervisor_a, agent_a, agent_b, who):
    client = session_client(supervisor_a if who == "supervisor" else agent_a.user)
    for agent in (agent_a, agent_b):
        assert client.patch(detail(agent.pk), {"name": "Taken over"}).status_code == 403
    assert set(Agent.objects.values_list("name", flat=True)) == {"Alice A", "Bob B"}


def test_team_filter_for_another_team_shows_nothing_to_a_team_key(team_a_write_key, agent_b, team_b):
    assert team_a_write_key.get(URL, {"team": team_b.pk}).json()["results"] == []


def test_new_team_is_offered_to_unrestricted_callers_only(admin_client_api, team_a_admin_key, agent_a):
    other = TeamFactory()
    assert admin_client_api.patch(detail(agent_a.pk), {"team": other.pk}).status_code == 200
    assert team_a_admin_key.patch(detail(agent_a.pk), {"team": agent_a.team_id}).status_code == 404
