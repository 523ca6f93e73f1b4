import pytest
from rest_framework.test import APIClient

from contacts.models import Customer, Organization
from contacts.services import customer_create, organization_create
from crm.access.services.api_keys import api_key_revoke
from tests.agents.factories import AgentFactory, TeamFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/organizations/"


def detail(organization_id) -> str:
    return f"{URL}{organization_id}/"


@pytest.fixture
def acme():
    organization = organization_create(name="Acme", domain="acme.example.com", notes="key account")
    customer_create(name="Wile E. Coyote", organization=organization)
    return organization


def _ids(response):
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def test_create_normalises_and_returns_the_organization(write_client):
    response = write_client.post(URL, {"name": " Globex ", "domain": "@Globex.COM"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["name"], body["domain"], body["notes"], body["customer_count"]) == ("Globex", "globex.com", "", 0)
    assert Organization.objects.filter(pk=body["id"], name="Globex").exists()


@pytest.mark.parametrize(
    ("payload", "bad_fields"),
    [
        ({}, {"name"}),
        ({"name": ""}, {"name"}),
        ({"name": {"x": 1}}, {"name"}),
        ({"name": "Initech", "domain": "not a domain"}, {"domain"}),
        ({"name": "Initech", "website": "initech.com"}, {"website"}),
        ({"name": "Initech", "notes": "x" * 10_001}, {"notes"}),
    ],
)
def test_create_rejects_bad_input_and_writes_nothing(write_client, acme, payload, bad_fields):
    response = write_client.post(URL, payload)
    assert response.status_code == 400
    assert set(response.json()) == bad_fields
    assert Organization.objects.count() == 1


def test_retrieve_counts_customers(read_client, acme):
    response = read_client.get(detail(acme.pk))
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["domain"], body["notes"], body["customer_count"]) == (
        "Acme",
        "acme.example.com",
        "key account",
        1,
    )


@pytest.mark.parametrize("organization_id", ["999999", "acme", str(10**30), "2.5"])
def test_retrieve_unknown_organization_is_404(read_client, organization_id):
    assert read_client.get(detail(organization_id)).status_code == 404


def test_patch_changes_given_fields(write_client, acme):
    response = write_client.patch(detail(acme.pk), {"domain": "ACME.org"})
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["domain"]) == ("Acme", "acme.org")


def test_create_with_a_name_taken_in_another_case_is_409(write_client, acme):
    response = write_client.post(URL, {"name": "ACME"})
    assert response.status_code == 409
    assert "already exists" in response.json()["name"][0]
    assert Organization.objects.count() == 1


def test_patch_with_a_name_taken_in_another_case_is_409(write_client, acme):
    globex = organization_create(name="Globex")
    response = write_client.patch(detail(globex.pk), {"name": "acme"})
    assert response.status_code == 409
    assert set(response.json()) == {"name"}
    globex.refresh_from_db()
    assert globex.name == "Globex"


def test_put_requires_name(write_client, acme):
    response = write_client.put(detail(acme.pk), {"domain": "acme.org"})
    assert response.status_code == 400
    assert set(response.json()) == {"name"}


def test_delete_keeps_the_customers(write_client, acme):
    response = write_client.delete(detail(acme.pk))
    assert response.status_code == 204
    assert not Organization.objects.exists()
    assert Customer.objects.get().organization is None


def test_list_searches_name_and_domain(read_client, acme):
    globex = organization_create(name="Globex", domain="globex.com")
    assert _ids(read_client.get(URL, {"q": "GLOB"})) == [globex.pk]
    assert _ids(read_client.get(URL, {"q": "acme.example"})) == [acme.pk]
    assert _ids(read_client.get(URL)) == [globex.pk, acme.pk]
    assert [o["name"] for o in read_client.get(URL, {"ordering": "name"}).json()["results"]] == ["Acme", "Globex"]


@pytest.mark.parametrize("rows", [5, 50])
def test_list_query_count_does_not_grow_with_the_page(read_client, django_assert_max_num_queries, rows):
    for n in range(rows):
        organization = organization_create(name=f"Org {n}")
        customer_create(name=f"Customer {n}", organization=organization)
    with django_assert_max_num_queries(3):
        response = read_client.get(URL, {"page_size": 100})
    assert len(response.json()["results"]) == rows
    assert all(row["customer_count"] == 1 for row in response.json()["results"])


def test_no_key_is_401(api_client, acme):
    for method, url in [("get", URL), ("post", URL), ("get", detail(acme.pk)), ("delete", detail(acme.pk))]:
        assert getattr(api_client, method)(url, {"name": "x"}).status_code == 401
    assert Organization.objects.count() == 1


def test_revoked_key_is_401(write_client, acme):
    api_key_revoke(api_key=write_client.api_key)
    assert write_client.get(URL).status_code == 401
    assert write_client.delete(detail(acme.pk)).status_code == 401
    assert Organization.objects.count() == 1


def test_read_key_cannot_write(read_client, acme):
    assert read_client.post(URL, {"name": "Initech"}).status_code == 403
    assert read_client.patch(detail(acme.pk), {"name": "Changed"}).status_code == 403
    assert read_client.put(detail(acme.pk), {"name": "Changed"}).status_code == 403
    assert read_client.delete(detail(acme.pk)).status_code == 403
    assert list(Organization.objects.values_list("name", flat=True)) == ["Acme"]


def test_organizations_are_a_shared_directory_for_team_keys_and_agents(key_client_factory, acme):
    agent = AgentFactory(team=TeamFactory())
    agent_session = APIClient()
    agent_session.force_login(agent.user)
    for client in (key_client_factory(["read"], team=TeamFactory()), agent_session):
        assert client.get(detail(acme.pk)).status_code == 200
        assert _ids(client.get(URL)) == [acme.pk]
