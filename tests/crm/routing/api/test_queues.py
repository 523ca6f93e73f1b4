import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from crm.access.services.api_keys import api_key_revoke
from crm.choices import InteractionStatus
from crm.routing.models import Queue, QueueSkill
from tests.agents.factories import AgentFactory, SkillFactory, TeamFactory, UserFactory
from tests.crm.factories import InteractionFactory, QueueFactory, QueueSkillFactory, SLAPolicyFactory

pytestmark = pytest.mark.django_db

LIST = reverse("v1:crm-api:queue-list")


def detail(pk) -> str:
    return reverse("v1:crm-api:queue-detail", args=[pk])


def session_client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def skills():
    return SkillFactory(name="Billing"), SkillFactory(name="Spanish")


def payload(**overrides) -> dict:
    data = {"name": "Support", "channels": ["chat", "email"]}
    data.update(overrides)
    return data


def counts() -> tuple[int, int]:
    return Queue.objects.count(), QueueSkill.objects.count()


# --- create --------------------------------------------------------------------------------------


def test_create_returns_the_queue_with_named_skills_and_live_figures(admin_client_api, skills):
    team, sla, overflow = TeamFactory(), SLAPolicyFactory(), QueueFactory(name="Overflow")
    body = payload(
        description="First line",
        team=team.pk,
        required_skills=[{"skill": skills[0].pk, "min_level": 3}, {"skill": skills[1].pk, "min_level": 1}],
        priority=8,
        sla_policy=sla.pk,
        overflow_queue=overflow.pk,
        overflow_after_seconds=120,
        service_level_seconds=30,
        service_level_target=0.9,
        is_active=True,
    )

    response = admin_client_api.post(LIST, body, format="json")

    assert response.status_code == 201, response.json()
    data = response.json()
    queue = Queue.objects.get(pk=data["id"])
    assert data["name"] == "Support" and queue.name == "Support"
    assert data["team"] == team.pk and data["sla_policy"] == sla.pk and data["overflow_queue"] == overflow.pk
    assert data["channels"] == ["chat", "email"]
    assert data["required_skills"] == [
        {"skill": skills[0].pk, "name": "Billing", "min_level": 3},
        {"skill": skills[1].pk, "name": "Spanish", "min_level": 1},
    ]
    assert data["priority"] == 8 and data["overflow_after_seconds"] == 120
    assert data["service_level_seconds"] == 30 and data["service_level_target"] == 0.9
    assert data["waiting"] == 0 and data["oldest_waiting_seconds"] is None
    assert queue.queue_skills.count() == 2


def test_create_applies_defaults_for_optional_fields(admin_client_api):
    response = admin_client_api.post(LIST, payload(), format="json")

    assert response.status_code == 201
    data = response.json()
    assert data["team"] is None and data["required_skills"] == [] and data["priority"] == 5
    assert data["service_level_target"] == 0.8 and data["is_active"] is True and data["description"] == ""
    assert data["accept_timeout_seconds"] == 30 and data["auto_accept"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param(payload(priority="high"), "priority", id="wrong-type"),
        pytest.param(payload(priority=11), "priority", id="priority-out-of-range"),
        pytest.param({"channels": ["chat"]}, "name", id="missing-name"),
        pytest.param({"name": "X"}, "channels", id="missing-channels"),
        pytest.param(payload(colour="blue"), "colour", id="unknown-field"),
        pytest.param(payload(waiting=3), "waiting", id="read-only-field"),
        pytest.param(payload(channels=["fax"]), "channels", id="unknown-channel"),
        pytest.param(payload(channels=[]), "channels", id="no-channel"),
        pytest.param(payload(channels=["chat", "chat"]), "channels", id="duplicate-channel"),
        pytest.param(payload(channels="chat"), "channels", id="channels-not-a-list"),
        pytest.param(
            payload(required_skills=[{"skill": 999_999, "min_level": 2}]), "required_skills", id="unknown-skill"
        ),
        pytest.param(
            payload(required_skills=[{"skill": "SKILL", "min_level": 9}]), "required_skills", id="skill-level-9"
        ),
        pytest.param(
            payload(required_skills=[{"skill": "SKILL", "level": 2}]), "required_skills", id="skill-unknown-key"
        ),
        pytest.param(
            payload(required_skills=[{"skill": "SKILL"}, {"skill": "SKILL", "min_level": 2}]),
            "required_skills",
            id="skill-twice",
        ),
        pytest.param(payload(team=999_999), "team", id="unknown-team"),
        pytest.param(payload(sla_policy=999_999), "sla_policy", id="unknown-sla-policy"),
        pytest.param(
            payload(overflow_queue=999_999, overflow_after_seconds=60), "overflow_queue", id="unknown-overflow"
        ),
        pytest.param(payload(overflow_queue="OTHER"), "overflow_after_seconds", id="overflow-without-time"),
        pytest.param(payload(overflow_after_seconds=60), "overflow_after_seconds", id="time-without-overflow"),
        pytest.param(payload(service_level_target=0), "service_level_target", id="target-zero"),
        pytest.param(payload(service_level_target=1.5), "service_level_target", id="target-above-one"),
        pytest.param(payload(service_level_seconds=2**40), "service_level_seconds", id="seconds-overflow-int"),
        pytest.param(payload(name="x" * 101), "name", id="name-too-long"),
        pytest.param(payload(accept_timeout_seconds=0), "accept_timeout_seconds", id="accept-timeout-zero"),
        pytest.param(payload(accept_timeout_seconds=-5), "accept_timeout_seconds", id="accept-timeout-negative"),
        pytest.param(payload(accept_timeout_seconds="soon"), "accept_timeout_seconds", id="accept-timeout-text"),
        pytest.param(payload(accept_timeout_seconds=2**40), "accept_timeout_seconds", id="accept-timeout-overflow"),
        pytest.param(payload(auto_accept="sometimes"), "auto_accept", id="auto-accept-not-bool"),
    ],
)
def test_create_rejects_bad_input_and_writes_nothing(admin_client_api, body, field):
    skill, other = SkillFactory(), QueueFactory(name="Existing Queue")
    body = json.loads(json.dumps(body).replace('"SKILL"', str(skill.pk)).replace('"OTHER"', str(other.pk)))
    before = counts()

    response = admin_client_api.post(LIST, body, format="json")

    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert counts() == before


def test_create_with_a_taken_name_in_any_case_is_409_and_writes_nothing(admin_client_api):
    QueueFactory(name="Existing Queue")

    response = admin_client_api.post(LIST, payload(name="  existing QUEUE "), format="json")

    assert response.status_code == 409
    assert "already exists" in response.json()["name"][0]
    assert Queue.objects.count() == 1


def test_create_rejects_a_body_that_is_not_an_object(admin_client_api):
    response = admin_client_api.post(LIST, ["Support"], format="json")

    assert response.status_code == 400
    assert Queue.objects.count() == 0


def test_create_rejects_malformed_json(admin_client_api):
    response = admin_client_api.post(LIST, '{"name": "Support",', content_type="application/json")

    assert response.status_code == 400
    assert Queue.objects.count() == 0


def test_create_rejects_an_oversize_body(admin_client_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = payload(description="x" * 20_000)

    response = admin_client_api.post(LIST, body, format="json")

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert Queue.objects.count() == 0


# --- read ----------------------------------------------------------------------------------------


def test_retrieve_counts_only_queued_work_and_its_oldest_age(read_client):
    queue = QueueFactory()
    now = timezone.now()
    InteractionFactory(queue=queue, queued_at=now - timedelta(seconds=300))
    InteractionFactory(queue=queue, queued_at=now - timedelta(seconds=30))
    agent = AgentFactory()
    InteractionFactory(queue=queue, status=InteractionStatus.ACTIVE, agent=agent, queued_at=now - timedelta(hours=1))

    response = read_client.get(detail(queue.pk))

    assert response.status_code == 200
    data = response.json()
    assert data["waiting"] == 2
    assert 300 <= data["oldest_waiting_seconds"] < 360


def test_retrieve_unknown_queue_is_404(read_client):
    assert read_client.get(detail(999_999)).status_code == 404
    assert read_client.get(detail(2**70)).status_code == 404


def test_list_filters_by_channel_team_activity_and_name(read_client):
    team = TeamFactory()
    voice = QueueFactory(name="Voice sales", channels=["voice"], team=team)
    chat = QueueFactory(name="Chat support", channels=["chat"])
    old = QueueFactory(name="Old chat", channels=["chat"], is_active=False)

    def names(query):
        response = read_client.get(LIST, query)
        assert response.status_code == 200, response.json()
        return {row["name"] for row in response.json()["results"]}

    assert names({}) == {voice.name, chat.name, old.name}
    assert names({"channel": "chat"}) == {chat.name, old.name}
    assert names({"team": team.pk}) == {voice.name}
    assert names({"is_active": "false"}) == {old.name}
    assert names({"q": "SUPPORT"}) == {chat.name}
    assert names({"team": 999_999}) == set()


@pytest.mark.parametrize(
    "query",
    [
        {"channel": "fax"},
        {"team": "abc"},
        {"team": "1.5"},
        {"team": str(2**70)},  # beyond a 64-bit id: a 400, as on every list
        {"is_active": "maybe"},
        {"is_active": ""},
        {"channel": ""},
        {"page_size": "0"},
        {"cursor": "garbage"},
    ],
)
def test_list_rejects_bad_filter_values(read_client, query):
    # an invalid cursor is DRF's "page not found"
    expected = 404 if "cursor" in query else 400

    assert read_client.get(LIST, query).status_code == expected


def test_list_is_paginated_by_cursor(read_client):
    for i in range(5):
        QueueFactory(name=f"Queue {i}")

    first = read_client.get(LIST, {"page_size": 3}).json()
    second = read_client.get(first["next"]).json()

    assert [q["name"] for q in first["results"] + second["results"]] == [f"Queue {i}" for i in range(5)]
    assert second["next"] is None


def test_list_keeps_a_constant_query_count(own_cache_generation, read_client, django_assert_max_num_queries):
    def fill(n):
        for _ in range(n):
            queue = QueueFactory(team=TeamFactory(), sla_policy=SLAPolicyFactory())
            QueueSkillFactory(queue=queue)
            QueueSkillFactory(queue=queue)
            InteractionFactory(queue=queue)

    fill(5)
    with django_assert_max_num_queries(5):
        assert len(read_client.get(LIST).json()["results"]) == 5
    fill(45)
    with django_assert_max_num_queries(5):
        assert len(read_client.get(LIST).json()["results"]) == 50


# --- update --------------------------------------------------------------------------------------


def test_patch_changes_given_fields_and_keeps_required_skills(admin_client_api, skills):
    queue = QueueFactory(priority=5)
    QueueSkillFactory(queue=queue, skill=skills[0], min_level=2)

    response = admin_client_api.patch(detail(queue.pk), {"priority": 9, "is_active": False}, format="json")

    assert response.status_code == 200, response.json()
    queue.refresh_from_db()
    assert queue.priority == 9 and queue.is_active is False
    assert response.json()["required_skills"] == [{"skill": skills[0].pk, "name": "Billing", "min_level": 2}]


def test_accept_timeout_and_auto_accept_are_set_shown_and_cleared(admin_client_api):
    created = admin_client_api.post(
        LIST, payload(channels=["email"], accept_timeout_seconds=120, auto_accept=True), format="json"
    )
    assert created.status_code == 201, created.json()
    assert created.json()["accept_timeout_seconds"] == 120 and created.json()["auto_accept"] is True

    response = admin_client_api.patch(detail(created.json()["id"]), {"accept_timeout_seconds": None}, format="json")

    assert response.status_code == 200, response.json()
    queue = Queue.objects.get(pk=created.json()["id"])
    assert queue.accept_timeout_seconds is None and queue.auto_accept is True
    assert response.json()["accept_timeout_seconds"] is None


def test_database_refuses_a_zero_accept_timeout():
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        QueueFactory(accept_timeout_seconds=0)


def test_patch_replaces_required_skills_when_given(admin_client_api, skills):
    queue = QueueFactory()
    QueueSkillFactory(queue=queue, skill=skills[0], min_level=2)

    response = admin_client_api.patch(
        detail(queue.pk), {"required_skills": [{"skill": skills[1].pk, "min_level": 4}]}, format="json"
    )

    assert response.status_code == 200
    assert list(queue.queue_skills.values_list("skill_id", "min_level")) == [(skills[1].pk, 4)]


def test_put_replaces_the_queue(admin_client_api):
    queue = QueueFactory(name="Old", priority=9, description="old text", channels=["voice"])

    response = admin_client_api.put(detail(queue.pk), {"name": "New", "channels": ["email"]}, format="json")

    assert response.status_code == 200, response.json()
    queue.refresh_from_db()
    assert (queue.name, queue.channels, queue.priority, queue.description) == ("New", ["email"], 5, "")


def test_put_without_required_fields_is_400_and_changes_nothing(admin_client_api):
    queue = QueueFactory(name="Old", priority=9)

    response = admin_client_api.put(detail(queue.pk), {"priority": 2}, format="json")

    assert response.status_code == 400
    queue.refresh_from_db()
    assert queue.priority == 9


def test_patch_setting_overflow_needs_its_time(admin_client_api):
    queue, target = QueueFactory(), QueueFactory()

    response = admin_client_api.patch(detail(queue.pk), {"overflow_queue": target.pk}, format="json")

    assert response.status_code == 400
    assert "overflow_after_seconds" in response.json()
    queue.refresh_from_db()
    assert queue.overflow_queue_id is None


def test_overflow_into_itself_is_400(admin_client_api):
    queue = QueueFactory()

    response = admin_client_api.patch(
        detail(queue.pk), {"overflow_queue": queue.pk, "overflow_after_seconds": 60}, format="json"
    )

    assert response.status_code == 400
    assert "overflow_queue" in response.json()


def test_overflow_cycle_is_400_and_nothing_changes(admin_client_api):
    a = QueueFactory(name="A")
    b = QueueFactory(name="B")
    c = QueueFactory(name="C", overflow_queue=a, overflow_after_seconds=60)
    Queue.objects.filter(pk=b.pk).update(overflow_queue=c, overflow_after_seconds=60)  # B → C → A

    response = admin_client_api.patch(
        detail(a.pk), {"overflow_queue": b.pk, "overflow_after_seconds": 30}, format="json"
    )

    assert response.status_code == 400
    assert "cycle" in response.json()["overflow_queue"][0]
    a.refresh_from_db()
    assert a.overflow_queue_id is None and a.overflow_after_seconds is None


def test_patch_rejects_unknown_fields_and_changes_nothing(admin_client_api):
    queue = QueueFactory(priority=3)

    response = admin_client_api.patch(detail(queue.pk), {"priority": 7, "prio": 7}, format="json")

    assert response.status_code == 400
    assert "prio" in response.json()
    queue.refresh_from_db()
    assert queue.priority == 3


def test_patch_rename_to_an_existing_name_is_409(admin_client_api):
    QueueFactory(name="Billing")
    queue = QueueFactory(name="Sales")

    response = admin_client_api.patch(detail(queue.pk), {"name": "BILLING"}, format="json")

    assert response.status_code == 409
    assert "name" in response.json()
    queue.refresh_from_db()
    assert queue.name == "Sales"


# --- delete --------------------------------------------------------------------------------------


def test_delete_removes_an_idle_queue_and_its_requirements(admin_client_api):
    queue = QueueFactory()
    QueueSkillFactory(queue=queue)
    InteractionFactory(queue=queue, status=InteractionStatus.CLOSED)

    response = admin_client_api.delete(detail(queue.pk))

    assert response.status_code == 204
    assert counts() == (0, 0)


def test_delete_queue_with_open_interactions_is_409(admin_client_api):
    queue = QueueFactory()
    InteractionFactory(queue=queue)

    response = admin_client_api.delete(detail(queue.pk))

    assert response.status_code == 409
    assert "open interactions" in response.json()["detail"]
    assert Queue.objects.filter(pk=queue.pk).exists()


def test_delete_queue_that_is_another_queues_overflow_is_409(admin_client_api):
    target = QueueFactory(name="Target")
    QueueFactory(name="Source", overflow_queue=target, overflow_after_seconds=60)

    response = admin_client_api.delete(detail(target.pk))

    assert response.status_code == 409
    assert "Source" in response.json()["detail"]
    assert Queue.objects.filter(pk=target.pk).exists()


# --- authentication and scopes -------------------------------------------------------------------


def test_no_key_is_401(api_client):
    assert api_client.get(LIST).status_code == 401
    assert api_client.post(LIST, payload(), format="json").status_code == 401


def test_revoked_key_is_401(read_client):
    api_key_revoke(api_key=read_client.api_key)

    assert read_client.get(LIST).status_code == 401


def test_invalid_key_is_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer sb_not-a-key")

    assert api_client.get(LIST).status_code == 401


@pytest.mark.parametrize("fixture", ["read_client", "write_client"])
def test_writes_need_the_admin_scope(request, fixture):
    client = request.getfixturevalue(fixture)
    queue = QueueFactory()

    assert client.post(LIST, payload(), format="json").status_code == 403
    assert client.patch(detail(queue.pk), {"priority": 9}, format="json").status_code == 403
    assert client.delete(detail(queue.pk)).status_code == 403
    assert Queue.objects.count() == 1
    assert Queue.objects.get().priority == 5


def test_a_plain_agent_session_cannot_write_queues():
    agent = AgentFactory()
    queue = QueueFactory(team=agent.team)

    client = session_client(agent.user)

    assert client.get(detail(queue.pk)).status_code == 200
    assert client.patch(detail(queue.pk), {"priority": 9}, format="json").status_code == 403


# --- who sees what -------------------------------------------------------------------------------


@pytest.fixture
def two_teams():
    team_a, team_b = TeamFactory(name="A"), TeamFactory(name="B")
    return team_a, team_b, QueueFactory(name="A queue", team=team_a), QueueFactory(name="B queue", team=team_b)


def _team_a_clients(key_client_factory, team_a):
    supervisor = UserFactory()
    team_a.supervisors.add(supervisor)
    agent = AgentFactory(team=team_a)
    return {
        "key": key_client_factory(["admin"], team=team_a),
        "supervisor": session_client(supervisor),
        "agent": session_client(agent.user),
    }


@pytest.mark.parametrize("who", ["key", "supervisor", "agent"])
def test_team_a_callers_get_404_for_team_b_queues_on_every_id_endpoint(key_client_factory, two_teams, who):
    team_a, _, _, queue_b = two_teams
    client = _team_a_clients(key_client_factory, team_a)[who]

    assert client.get(detail(queue_b.pk)).status_code == 404
    assert client.patch(detail(queue_b.pk), {"priority": 9}, format="json").status_code in (403, 404)
    assert client.put(detail(queue_b.pk), payload(), format="json").status_code in (403, 404)
    assert client.delete(detail(queue_b.pk)).status_code in (403, 404)
    queue_b.refresh_from_db()
    assert queue_b.priority == 5


def test_team_bound_admin_key_gets_404_not_403_on_other_teams_queue_writes(key_client_factory, two_teams):
    team_a, _, _, queue_b = two_teams
    client = key_client_factory(["admin"], team=team_a)

    assert client.patch(detail(queue_b.pk), {"priority": 9}, format="json").status_code == 404
    assert client.put(detail(queue_b.pk), payload(), format="json").status_code == 404
    assert client.delete(detail(queue_b.pk)).status_code == 404
    assert Queue.objects.filter(pk=queue_b.pk).exists()


@pytest.mark.parametrize("who", ["key", "supervisor", "agent"])
def test_team_a_callers_list_their_queues_and_shared_ones(key_client_factory, two_teams, who):
    team_a, _, _, _ = two_teams
    QueueFactory(name="Shared", team=None)
    client = _team_a_clients(key_client_factory, team_a)[who]

    response = client.get(LIST)

    assert {q["name"] for q in response.json()["results"]} == {"A queue", "Shared"}


def test_staff_session_sees_every_queue(staff_client, two_teams):
    assert len(staff_client.get(LIST).json()["results"]) == 2


def test_team_bound_admin_key_manages_its_own_team_queues(key_client_factory, two_teams):
    team_a, team_b, queue_a, queue_b = two_teams
    client = key_client_factory(["admin"], team=team_a)

    created = client.post(LIST, payload(team=team_a.pk), format="json")
    changed = client.patch(detail(queue_a.pk), {"priority": 9}, format="json")

    assert created.status_code == 201 and changed.status_code == 200
    assert Queue.objects.get(pk=queue_a.pk).priority == 9


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"team": "TEAM_B"}, "team", id="other-team"),
        pytest.param({"team": None}, "team", id="shared-queue"),
        pytest.param(
            {"team": "TEAM_A", "overflow_queue": "QUEUE_B", "overflow_after_seconds": 60},
            "overflow_queue",
            id="overflow-into-other-team",
        ),
    ],
)
def test_team_bound_admin_key_cannot_create_outside_its_team(key_client_factory, two_teams, body, field):
    team_a, team_b, _, queue_b = two_teams
    ids = {"TEAM_A": team_a.pk, "TEAM_B": team_b.pk, "QUEUE_B": queue_b.pk}
    body = {key: ids.get(value, value) for key, value in body.items()}
    client = key_client_factory(["admin"], team=team_a)

    response = client.post(LIST, payload(**body), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert Queue.objects.count() == 2


def test_team_bound_admin_key_cannot_change_a_shared_queue(key_client_factory, two_teams):
    team_a = two_teams[0]
    shared = QueueFactory(name="Shared", team=None)
    client = key_client_factory(["admin"], team=team_a)

    assert client.get(detail(shared.pk)).status_code == 200
    assert client.patch(detail(shared.pk), {"priority": 9}, format="json").status_code == 403
    assert client.delete(detail(shared.pk)).status_code == 403
    assert Queue.objects.get(pk=shared.pk).priority == 5


def test_a_queue_sets_its_survey_kind_and_delay(admin_client_api):
    response = admin_client_api.post(
        LIST,
        {"name": "Billing", "channels": ["email"], "survey_kind": "nps", "survey_delay_seconds": 60},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["surveys_enabled"], body["survey_kind"], body["survey_delay_seconds"]) == (True, "nps", 60)
    changed = admin_client_api.patch(detail(body["id"]), {"surveys_enabled": False}, format="json").json()
    assert changed["surveys_enabled"] is False and changed["survey_kind"] == "nps"
    bad = admin_client_api.patch(
        detail(body["id"]), {"survey_kind": "stars", "survey_delay_seconds": -1}, format="json"
    )
    assert bad.status_code == 400 and set(bad.json()) == {"survey_kind", "survey_delay_seconds"}
