import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from crm.access.services.api_keys import api_key_revoke
from crm.sla.models import SLAPolicy, SLATarget
from tests.agents.factories import AgentFactory, TeamFactory, UserFactory
from tests.crm.factories import QueueFactory, SLAPolicyFactory, SLATargetFactory

pytestmark = pytest.mark.django_db

LIST = reverse("v1:crm-api:sla-policy-list")


def detail(pk) -> str:
    return reverse("v1:crm-api:sla-policy-detail", args=[pk])


def target(**overrides) -> dict:
    data = {"channel": "chat", "priority": None, "first_response_seconds": 60}
    data.update(overrides)
    return data


def payload(**overrides) -> dict:
    data = {
        "name": "Gold",
        "description": "Gold customers",
        "pause_on_hold": True,
        "is_active": True,
        "targets": [
            target(channel="chat", first_response_seconds=60, next_response_seconds=120, resolution_seconds=3600),
            target(channel="", priority=4, first_response_seconds=30),
        ],
    }
    data.update(overrides)
    return data


def counts() -> tuple[int, int]:
    return SLAPolicy.objects.count(), SLATarget.objects.count()


def test_create_returns_the_policy_with_its_targets(admin_client_api):
    response = admin_client_api.post(LIST, payload(), format="json")

    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["name"] == "Gold" and data["pause_on_hold"] is True
    assert data["first_response_seconds"] is None  # no flat fields given: no default target
    assert sorted(data["targets"], key=lambda t: t["channel"]) == [
        {
            "channel": "",
            "priority": 4,
            "first_response_seconds": 30,
            "next_response_seconds": None,
            "resolution_seconds": None,
        },
        {
            "channel": "chat",
            "priority": None,
            "first_response_seconds": 60,
            "next_response_seconds": 120,
            "resolution_seconds": 3600,
        },
    ]
    assert counts() == (1, 2)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param(payload(pause_on_hold="sometimes"), "pause_on_hold", id="wrong-type"),
        pytest.param({"targets": [target()]}, "name", id="missing-name"),
        pytest.param(payload(targets=None), "targets", id="null-targets"),
        pytest.param({"name": "X"}, "targets", id="missing-targets"),
        pytest.param(payload(targets=[]), "targets", id="no-target"),
        pytest.param(payload(owner="me"), "owner", id="unknown-field"),
        pytest.param(payload(targets=[target(colour="red")]), "targets", id="unknown-target-field"),
        pytest.param(payload(targets=[target(channel="fax")]), "targets", id="unknown-channel"),
        pytest.param(payload(targets=[target(priority=5)]), "targets", id="priority-5"),
        pytest.param(payload(targets=[target(first_response_seconds=0)]), "targets", id="zero-first-response"),
        pytest.param(payload(targets=[target(first_response_seconds="soon")]), "targets", id="seconds-not-a-number"),
        pytest.param(
            payload(targets=[target(first_response_seconds=600, resolution_seconds=60)]),
            "targets",
            id="resolution-before-first-response",
        ),
        pytest.param(
            payload(targets=[target(channel="chat", priority=2), target(channel="chat", priority=2)]),
            "targets",
            id="duplicate-channel-priority",
        ),
        pytest.param(payload(targets=[target(channel=""), target(channel="")]), "targets", id="duplicate-catch-all"),
    ],
)
def test_create_rejects_bad_input_and_writes_nothing(admin_client_api, body, field):
    SLAPolicyFactory(name="Existing")
    before = counts()

    response = admin_client_api.post(LIST, body, format="json")

    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert counts() == before


def test_create_with_a_taken_name_is_409_and_writes_nothing(admin_client_api):
    SLAPolicyFactory(name="Existing")

    response = admin_client_api.post(LIST, payload(name="EXISTING"), format="json")

    assert response.status_code == 409
    assert "name" in response.json()
    assert counts() == (1, 0)


def test_create_rejects_an_oversize_body(admin_client_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000

    response = admin_client_api.post(LIST, payload(description="x" * 20_000), format="json")

    assert response.status_code == 413
    assert counts() == (0, 0)


def test_list_and_filter(read_client):
    SLAPolicyFactory(name="Gold")
    SLAPolicyFactory(name="Silver", is_active=False)

    names = lambda query: [p["name"] for p in read_client.get(LIST, query).json()["results"]]  # noqa: E731

    assert names({}) == ["Gold", "Silver"]
    assert names({"is_active": "false"}) == ["Silver"]
    assert names({"q": "gol"}) == ["Gold"]
    assert read_client.get(LIST, {"is_active": "perhaps"}).status_code == 400


def test_list_keeps_a_constant_query_count(read_client, django_assert_max_num_queries):
    def fill(n):
        for _ in range(n):
            policy = SLAPolicyFactory()
            SLATargetFactory(policy=policy, channel="chat")
            SLATargetFactory(policy=policy, channel="email")

    fill(5)
    with django_assert_max_num_queries(4):
        assert len(read_client.get(LIST).json()["results"]) == 5
    fill(45)
    with django_assert_max_num_queries(4):
        assert len(read_client.get(LIST).json()["results"]) == 50


def test_retrieve(read_client):
    policy = SLAPolicyFactory(name="Gold")
    SLATargetFactory(policy=policy, channel="email", first_response_seconds=300, resolution_seconds=None)

    response = read_client.get(detail(policy.pk))

    assert response.status_code == 200
    assert response.json()["targets"][0]["first_response_seconds"] == 300
    assert read_client.get(detail(999_999)).status_code == 404


def test_patch_replaces_targets_when_given(admin_client_api):
    policy = SLAPolicyFactory(name="Gold")
    SLATargetFactory(policy=policy, channel="chat")
    SLATargetFactory(policy=policy, channel="email")

    response = admin_client_api.patch(
        detail(policy.pk), {"targets": [target(channel="voice", first_response_seconds=20)]}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert list(policy.targets.values_list("channel", "first_response_seconds")) == [("voice", 20)]


def test_patch_without_targets_keeps_them(admin_client_api):
    policy = SLAPolicyFactory(name="Gold")
    SLATargetFactory(policy=policy, channel="chat")

    response = admin_client_api.patch(detail(policy.pk), {"is_active": False, "name": "Gold 2"}, format="json")

    assert response.status_code == 200
    policy.refresh_from_db()
    assert (policy.name, policy.is_active, policy.targets.count()) == ("Gold 2", False, 1)


def test_put_replaces_the_policy(admin_client_api):
    policy = SLAPolicyFactory(name="Gold", description="old", pause_on_hold=True)
    SLATargetFactory(policy=policy, channel="chat")

    response = admin_client_api.put(
        detail(policy.pk), {"name": "Platinum", "targets": [target(channel="sms")]}, format="json"
    )

    assert response.status_code == 200, response.json()
    policy.refresh_from_db()
    assert (policy.name, policy.description, policy.pause_on_hold) == ("Platinum", "", False)
    assert list(policy.targets.values_list("channel", flat=True)) == ["sms"]


def test_failed_update_keeps_the_old_targets(admin_client_api):
    policy = SLAPolicyFactory(name="Gold")
    SLATargetFactory(policy=policy, channel="chat", first_response_seconds=120)

    response = admin_client_api.patch(
        detail(policy.pk),
        {"name": "Renamed", "targets": [target(channel="email"), target(channel="email")]},
        format="json",
    )

    assert response.status_code == 400
    policy.refresh_from_db()
    assert policy.name == "Gold"
    assert list(policy.targets.values_list("channel", "first_response_seconds")) == [("chat", 120)]


def test_delete_unused_policy_removes_it_and_its_targets(admin_client_api):
    policy = SLAPolicyFactory()
    SLATargetFactory(policy=policy)

    assert admin_client_api.delete(detail(policy.pk)).status_code == 204
    assert counts() == (0, 0)


def test_delete_policy_used_by_a_queue_is_409(admin_client_api):
    policy = SLAPolicyFactory()
    queue = QueueFactory(name="Billing", sla_policy=policy)

    response = admin_client_api.delete(detail(policy.pk))

    assert response.status_code == 409
    assert "Billing" in response.json()["detail"]
    queue.refresh_from_db()
    assert queue.sla_policy_id == policy.pk


def test_no_key_is_401(api_client):
    assert api_client.get(LIST).status_code == 401


def test_revoked_key_is_401(admin_client_api):
    api_key_revoke(api_key=admin_client_api.api_key)

    assert admin_client_api.post(LIST, payload(), format="json").status_code == 401
    assert counts() == (0, 0)


@pytest.mark.parametrize("fixture", ["read_client", "write_client"])
def test_writes_need_the_admin_scope(request, fixture):
    client = request.getfixturevalue(fixture)
    policy = SLAPolicyFactory(name="Gold")

    assert client.get(detail(policy.pk)).status_code == 200
    assert client.post(LIST, payload(name="New"), format="json").status_code == 403
    assert client.patch(detail(policy.pk), {"name": "Changed"}, format="json").status_code == 403
    assert client.delete(detail(policy.pk)).status_code == 403
    assert list(SLAPolicy.objects.values_list("name", flat=True)) == ["Gold"]


def test_team_bound_admin_key_reads_but_cannot_change_shared_policies(key_client_factory):
    policy = SLAPolicyFactory(name="Gold")
    client = key_client_factory(["admin"], team=TeamFactory())

    assert client.get(detail(policy.pk)).status_code == 200
    assert client.post(LIST, payload(name="New"), format="json").status_code == 403
    assert client.patch(detail(policy.pk), {"name": "Changed"}, format="json").status_code == 403
    assert client.delete(detail(policy.pk)).status_code == 403
    assert list(SLAPolicy.objects.values_list("name", flat=True)) == ["Gold"]


@pytest.mark.parametrize("who", ["supervisor", "agent"])
def test_supervisors_and_agents_read_policies_but_cannot_change_them(who):
    policy = SLAPolicyFactory(name="Gold")
    team = TeamFactory()
    if who == "supervisor":
        user = UserFactory()
        team.supervisors.add(user)
    else:
        user = AgentFactory(team=team).user
    client = APIClient()
    client.force_login(user)

    assert client.get(detail(policy.pk)).status_code == 200
    assert client.patch(detail(policy.pk), {"name": "Changed"}, format="json").status_code == 403


def test_staff_session_can_manage_policies(staff_client):
    response = staff_client.post(LIST, payload(), format="json")

    assert response.status_code == 201
    assert staff_client.delete(detail(response.json()["id"])).status_code == 204


@pytest.mark.parametrize("page_size", ["0", "501", "false", "-3", "1.5"])
def test_list_rejects_a_bad_page_size(read_client, page_size):
    response = read_client.get(LIST, {"page_size": page_size})

    assert response.status_code == 400
    assert "page_size" in response.json()
