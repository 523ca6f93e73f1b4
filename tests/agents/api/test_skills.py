"""/api/v1/skills/: the center's skills. Reads need `read`; writes `admin`."""

import pytest

from agents.models import Skill
from tests.agents.factories import AgentSkillFactory, SkillFactory
from tests.crm.factories import QueueSkillFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/skills/"


def detail(skill_id) -> str:
    return f"{URL}{skill_id}/"


def test_create_returns_the_skill(admin_client_api):
    response = admin_client_api.post(URL, {"name": " Spanish ", "description": "native level"})
    assert response.status_code == 201, response.content
    skill = Skill.objects.get()
    assert response.json() == {
        "id": skill.pk,
        "name": "Spanish",
        "description": "native level",
        "created_at": response.json()["created_at"],
    }


def test_create_without_description(admin_client_api):
    assert admin_client_api.post(URL, {"name": "Billing"}).status_code == 201
    assert Skill.objects.get().description == ""


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": ["Billing"]}, "name"),
        ({"name": {"en": "Billing"}}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "Billing", "description": 5 * "x" * 1001}, "description"),
        ({"name": "Billing", "level": 3}, "level"),
        ([{"name": "Billing"}], "non_field_errors"),
    ],
)
def test_create_rejects_bad_input_and_writes_nothing(admin_client_api, body, field):
    response = admin_client_api.post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Skill.objects.exists()


def test_create_rejects_a_name_taken_in_another_case(admin_client_api):
    SkillFactory(name="Billing")
    response = admin_client_api.post(URL, {"name": "BILLING"})
    assert response.status_code == 400 and "already exists" in response.json()["name"][0]
    assert Skill.objects.count() == 1


def test_create_rejects_malformed_json(admin_client_api):
    response = admin_client_api.generic("POST", URL, '{"name": ', content_type="application/json")
    assert response.status_code == 400
    assert not Skill.objects.exists()


def test_create_rejects_an_oversize_body(admin_client_api):
    response = admin_client_api.post(URL, {"name": "Billing", "description": "x" * (1024 * 1024 + 1)})
    assert response.status_code in (400, 413)
    assert not Skill.objects.exists()


@pytest.mark.parametrize("scopes", [["read"], ["read", "write"]])
def test_create_needs_the_admin_scope(key_client_factory, scopes):
    response = key_client_factory(scopes).post(URL, {"name": "Billing"})
    assert response.status_code == 403 and "admin" in response.json()["detail"]
    assert not Skill.objects.exists()


def test_non_staff_session_cannot_create(session_client, agent_a):
    assert session_client(agent_a.user).post(URL, {"name": "Billing"}).status_code == 403
    assert not Skill.objects.exists()


def test_staff_session_of_a_non_administrator_cannot_create(session_client, supervisor_a):
    supervisor_a.is_staff = True
    supervisor_a.save()
    response = session_client(supervisor_a).post(URL, {"name": "Billing"})
    assert response.status_code == 403 and "admin" in response.json()["detail"]
    assert not Skill.objects.exists()


def test_administrator_session_can_create(staff_client):
    assert staff_client.post(URL, {"name": "Billing"}).status_code == 201


def test_team_bound_admin_key_cannot_change_the_centers_skills(team_a_admin_key):
    skill = SkillFactory(name="Billing")
    created = team_a_admin_key.post(URL, {"name": "Spanish"})
    renamed = team_a_admin_key.patch(f"{URL}{skill.pk}/", {"name": "Invoices"})
    deleted = team_a_admin_key.delete(f"{URL}{skill.pk}/")
    assert (created.status_code, renamed.status_code, deleted.status_code) == (403, 403, 403)
    assert "shared by all teams" in created.json()["detail"]
    assert list(Skill.objects.values_list("name", flat=True)) == ["Billing"]


@pytest.mark.parametrize("client_fixture", ["api_client", "revoked_client", "bogus_client"])
def test_without_a_valid_key_everything_is_401(request, client_fixture):
    client = request.getfixturevalue(client_fixture)
    skill = SkillFactory()
    assert client.get(URL).status_code == 401
    assert client.get(detail(skill.pk)).status_code == 401
    assert client.post(URL, {"name": "Billing"}).status_code == 401
    assert client.patch(detail(skill.pk), {"name": "Changed"}).status_code == 401
    assert client.delete(detail(skill.pk)).status_code == 401
    assert list(Skill.objects.values_list("name", flat=True)) == [skill.name]


def test_list_and_retrieve_with_read_scope(read_client):
    billing, spanish = SkillFactory(name="Billing"), SkillFactory(name="Spanish")
    response = read_client.get(URL)
    assert response.status_code == 200
    assert [s["name"] for s in response.json()["results"]] == ["Billing", "Spanish"]
    assert read_client.get(detail(spanish.pk)).json()["name"] == "Spanish"
    assert billing


def test_list_filters_by_part_of_the_name(read_client):
    SkillFactory(name="Billing"), SkillFactory(name="Spanish"), SkillFactory(name="Bill disputes")
    names = [s["name"] for s in read_client.get(URL, {"q": "bill"}).json()["results"]]
    assert names == ["Bill disputes", "Billing"]


def test_skills_are_readable_by_team_bound_keys(team_a_write_key):
    skill = SkillFactory()
    assert team_a_write_key.get(detail(skill.pk)).status_code == 200


@pytest.mark.parametrize("skill_id", ["999999", "abc", "99999999999999999999"])
def test_unknown_skill_is_404(read_client, skill_id):
    assert read_client.get(f"{URL}{skill_id}/").status_code == 404


def test_patch_renames(admin_client_api):
    skill = SkillFactory(name="Billing", description="old")
    response = admin_client_api.patch(detail(skill.pk), {"name": "Invoices"})
    assert response.status_code == 200 and response.json()["name"] == "Invoices"
    skill.refresh_from_db()
    assert (skill.name, skill.description) == ("Invoices", "old")


def test_patch_rejects_unknown_fields_and_taken_names(admin_client_api):
    SkillFactory(name="Tech")
    skill = SkillFactory(name="Billing")
    assert admin_client_api.patch(detail(skill.pk), {"nmae": "Invoices"}).status_code == 400
    assert admin_client_api.patch(detail(skill.pk), {"name": "tech"}).status_code == 400
    assert Skill.objects.get(pk=skill.pk).name == "Billing"


def test_patch_needs_admin_scope(write_client):
    skill = SkillFactory(name="Billing")
    assert write_client.patch(detail(skill.pk), {"name": "Invoices"}).status_code == 403
    assert Skill.objects.get(pk=skill.pk).name == "Billing"


def test_put_is_not_offered(admin_client_api):
    skill = SkillFactory()
    assert admin_client_api.put(detail(skill.pk), {"name": "X"}).status_code == 405


def test_delete_unused_skill(admin_client_api):
    skill = SkillFactory()
    assert admin_client_api.delete(detail(skill.pk)).status_code == 204
    assert not Skill.objects.exists()


def test_delete_skill_in_use_is_409_and_keeps_it(admin_client_api):
    agent_skill = AgentSkillFactory()
    QueueSkillFactory(skill=agent_skill.skill)
    response = admin_client_api.delete(detail(agent_skill.skill_id))
    assert response.status_code == 409
    assert response.json()["code"] == "in_use" and "1 agent skill" in response.json()["detail"]
    assert Skill.objects.filter(pk=agent_skill.skill_id).exists()


def test_delete_needs_admin_scope(write_client):
    skill = SkillFactory()
    assert write_client.delete(detail(skill.pk)).status_code == 403
    assert Skill.objects.exists()


def test_list_query_count_does_not_grow_with_rows(read_client, django_assert_max_num_queries):
    SkillFactory.create_batch(5)
    read_client.get(URL)  # the key's first use records last_used_at once
    with django_assert_max_num_queries(2):
        assert len(read_client.get(URL).json()["results"]) == 5
    SkillFactory.create_batch(45)
    with django_assert_max_num_queries(2):
        assert len(read_client.get(URL).json()["results"]) == 50
