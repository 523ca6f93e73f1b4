import base64
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from contacts.models import Note
from crm.access.services.api_keys import api_key_revoke
from tests.agents.factories import AgentFactory, TeamFactory, UserFactory
from tests.contacts.factories import CustomerFactory, NoteFactory
from tests.crm.factories import InteractionFactory, MessageFactory, QueueFactory, SurveyFactory, SurveyResponseFactory

pytestmark = pytest.mark.django_db


def url(customer_id) -> str:
    return reverse("v1:crm-api:customer-timeline", args=[customer_id])


def fill(customer, n: int) -> None:
    """``n`` entries a second apart, cycling through the four kinds."""
    start = timezone.now() - timedelta(hours=2)
    interaction = InteractionFactory(customer=customer, created_at=start)
    for i in range(1, n):
        at = start + timedelta(seconds=i)
        match i % 4:
            case 0:
                interaction = InteractionFactory(customer=customer, created_at=at)
            case 1:
                MessageFactory(interaction=interaction, created_at=at)
            case 2:
                Note.objects.filter(pk=NoteFactory(customer=customer).pk).update(created_at=at)
            case 3:
                SurveyResponseFactory(survey=SurveyFactory(interaction=interaction, kind="csat"), answered_at=at)


def test_timeline_returns_entries_newest_first(read_client):
    customer = CustomerFactory()
    fill(customer, 4)

    response = read_client.get(url(customer.pk))

    assert response.status_code == 200
    data = response.json()
    assert data["next"] is None
    assert [e["kind"] for e in data["results"]] == ["survey_response", "note", "message", "interaction"]
    answer = data["results"][0]
    assert set(answer) == {
        "kind",
        "id",
        "at",
        "interaction",
        "title",
        "body",
        "score",
        "channel",
        "status",
        "direction",
    }
    assert answer["score"] == 4 and answer["interaction"] == data["results"][-1]["id"]


def test_following_next_returns_every_entry_exactly_once(read_client):
    customer = CustomerFactory()
    fill(customer, 11)

    seen, link = [], url(customer.pk) + "?limit=3"
    while link:
        page = read_client.get(link).json()
        seen.extend((e["kind"], e["id"]) for e in page["results"])
        link = page["next"]

    assert len(seen) == 11 == len(set(seen))
    everything = read_client.get(url(customer.pk), {"limit": 50}).json()["results"]
    assert seen == [(e["kind"], e["id"]) for e in everything]


def test_query_count_does_not_grow_with_the_page(own_cache_generation, read_client, django_assert_num_queries):
    small, large = CustomerFactory(), CustomerFactory()
    fill(small, 5)
    fill(large, 100)
    read_client.get(url(small.pk))  # the key's last_used_at write happens once, outside the measure

    with django_assert_num_queries(3) as small_queries:
        assert len(read_client.get(url(small.pk), {"limit": 100}).json()["results"]) == 5
    with django_assert_num_queries(3):
        assert len(read_client.get(url(large.pk), {"limit": 100}).json()["results"]) == 100
    assert sum("UNION ALL" in q["sql"] for q in small_queries.captured_queries) == 1


def _encoded(data) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "%%%",
        base64.urlsafe_b64encode(b"not json").decode(),
        _encoded({"at": "2026-01-01T00:00:00+00:00", "kind": "note"}),
        _encoded({"at": "2026-01-01T00:00:00", "kind": "note", "id": 3}),
        _encoded({"at": "yesterday", "kind": "note", "id": 3}),
        _encoded({"at": "2026-01-01T00:00:00+00:00", "kind": "tweet", "id": 3}),
        _encoded({"at": "2026-01-01T00:00:00+00:00", "kind": "note", "id": "3"}),
        _encoded({"at": "2026-01-01T00:00:00+00:00", "kind": "note", "id": 2**70}),
        _encoded(["a", "b"]),
    ],
)
def test_malformed_cursor_is_400(read_client, cursor):
    customer = CustomerFactory()

    response = read_client.get(url(customer.pk), {"cursor": cursor})

    assert response.status_code == 400
    assert "cursor" in response.json()


@pytest.mark.parametrize("limit", ["0", "201", "ten", "-1"])
def test_bad_limit_is_400(read_client, limit):
    assert read_client.get(url(CustomerFactory().pk), {"limit": limit}).status_code == 400


def test_unknown_customer_is_404(read_client):
    assert read_client.get(url(999_999)).status_code == 404
    assert read_client.get(url(2**70)).status_code == 404


def test_no_key_is_401(api_client):
    assert api_client.get(url(CustomerFactory().pk)).status_code == 401


def test_revoked_key_is_401(read_client):
    customer = CustomerFactory()
    api_key_revoke(api_key=read_client.api_key)

    assert read_client.get(url(customer.pk)).status_code == 401


def test_a_key_without_read_scope_is_403(key_client_factory):
    client = key_client_factory(["write"])

    assert client.get(url(CustomerFactory().pk)).status_code == 403


@pytest.mark.parametrize("who", ["key", "supervisor", "agent"])
def test_team_a_callers_do_not_see_team_b_work_in_the_timeline(key_client_factory, who):
    team_a, team_b = TeamFactory(), TeamFactory()
    customer = CustomerFactory()
    theirs = InteractionFactory(customer=customer, queue=QueueFactory(team=team_b))
    hidden_message = MessageFactory(interaction=theirs)
    note = NoteFactory(customer=customer)
    if who == "key":
        client = key_client_factory(["read"], team=team_a)
    else:
        user = UserFactory()
        if who == "supervisor":
            team_a.supervisors.add(user)
        else:
            AgentFactory(user=user, team=team_a)
        client = APIClient()
        client.force_login(user)

    response = client.get(url(customer.pk))

    assert response.status_code == 200
    entries = {(e["kind"], e["id"]) for e in response.json()["results"]}
    assert entries == {("note", note.pk)}
    assert ("message", hidden_message.pk) not in entries


def test_internal_notes_are_marked(staff_client):
    message = MessageFactory(direction="internal", body="Customer was rude")

    results = staff_client.get(url(message.interaction.customer_id)).json()["results"]

    assert {"kind": "message", "direction": "internal"}.items() <= results[0].items()
