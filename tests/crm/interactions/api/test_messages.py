import json

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from crm.access.services.api_keys import api_key_revoke
from crm.choices import InteractionStatus, MessageDirection
from crm.interactions.models import Interaction, Message
from crm.interactions.services.messages import message_create
from tests.agents.factories import AgentFactory, TeamFactory
from tests.crm.factories import MessageFactory, QueueFactory, interaction_in_status

pytestmark = pytest.mark.django_db

S = InteractionStatus


def messages_url(pk, slash=True):
    return f"/api/v1/interactions/{pk}/messages" + ("/" if slash else "")


@pytest.fixture
def team():
    return TeamFactory()


@pytest.fixture
def queue(team):
    return QueueFactory(team=team)


@pytest.fixture
def active(queue):
    return interaction_in_status(S.ACTIVE, queue=queue)


def session_client(user):
    client = APIClient()
    client.force_login(user)
    return client


def test_messages_are_listed_oldest_first_across_pages(write_client, active):
    for n in range(5):
        message_create(interaction=active, direction=MessageDirection.INBOUND, body=f"m{n}")
    bodies, url, params = [], messages_url(active.pk), {"page_size": 2}

    while url:
        page = write_client.get(url, params)
        assert page.status_code == 200
        bodies += [row["body"] for row in page.json()["results"]]
        url, params = page.json()["next"], None

    assert bodies == ["m0", "m1", "m2", "m3", "m4"]


def test_a_key_posts_an_outbound_reply_which_counts_as_the_first_response(write_client, active):
    response = write_client.post(
        messages_url(active.pk, slash=False),
        {"direction": "outbound", "body": "Hello!", "attachments": [{"name": "a.pdf", "size": 10}]},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["direction"], body["body"], body["author"]) == ("outbound", "Hello!", None)
    assert body["attachments"] == [{"name": "a.pdf", "size": 10}]
    assert Interaction.objects.get(pk=active.pk).first_response_at is not None
    detail = write_client.get(f"/api/v1/interactions/{active.pk}").json()
    assert detail["first_response_at"] is not None
    assert detail["sla"]["remaining_seconds"]["first_response"] is None


def test_an_agent_writes_an_internal_note_as_themselves(active):
    response = session_client(active.agent.user).post(messages_url(active.pk), {"direction": "internal", "body": "VIP"})

    assert response.status_code == 201
    assert response.json()["author"] == active.agent.user_id
    assert Message.objects.get(interaction=active, direction="internal").author == active.agent.user


def test_a_key_cannot_write_internal_notes(write_client, active):
    before = Message.objects.count()

    response = write_client.post(messages_url(active.pk), {"direction": "internal", "body": "secret"})

    assert response.status_code == 400
    assert "direction" in response.json()
    assert Message.objects.count() == before


@override_settings(SWITCHBOARD_MAX_MESSAGE_LENGTH=100)
@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"direction": "inbound", "body": "x" * 101}, "body"),
        ({"direction": "inbound", "body": ""}, "body"),
        ({"direction": "inbound"}, "body"),
        ({"direction": "sideways", "body": "x"}, "direction"),
        ({"body": "x"}, "direction"),
        ({"direction": "inbound", "body": 12}, "body"),
        ({"direction": "inbound", "body": "x", "author": 1}, "author"),
        ({"direction": "inbound", "body": "x", "attachments": "file.pdf"}, "attachments"),
        ({"direction": "inbound", "body": "x", "attachments": [{"size": -1, "name": "a"}]}, "attachments"),
        ({"direction": "inbound", "body": "x", "attachments": [{"name": "a", "blob": "AAAA"}]}, "attachments"),
    ],
)
def test_bad_messages_are_400_and_write_nothing(write_client, active, payload, field):
    before = Message.objects.count()

    response = write_client.post(messages_url(active.pk), payload, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert Message.objects.count() == before


def test_a_message_on_a_closed_interaction_is_409(write_client, queue):
    closed = interaction_in_status(S.CLOSED, queue=queue)
    before = Message.objects.count()

    response = write_client.post(messages_url(closed.pk), {"direction": "outbound", "body": "Hello?"})

    assert response.status_code == 409
    assert response.json()["code"] == "interaction_closed"
    assert Message.objects.count() == before


def test_auth_no_key_401_revoked_401_read_only_key_403(api_client, read_client, write_client, active):
    before = Message.objects.count()
    payload = {"direction": "inbound", "body": "x"}

    assert api_client.get(messages_url(active.pk)).status_code == 401
    assert api_client.post(messages_url(active.pk), payload).status_code == 401
    assert read_client.get(messages_url(active.pk)).status_code == 200
    assert read_client.post(messages_url(active.pk), payload).status_code == 403
    api_key_revoke(api_key=write_client.api_key)
    assert write_client.post(messages_url(active.pk), payload).status_code == 401
    assert Message.objects.count() == before


@pytest.mark.parametrize("caller", ["team_key", "agent_session"])
def test_another_teams_messages_are_404(key_client_factory, queue, caller):
    theirs = interaction_in_status(S.ACTIVE, queue=queue)
    other_team = TeamFactory()
    client = (
        key_client_factory(["read", "write"], team=other_team)
        if caller == "team_key"
        else session_client(AgentFactory(team=other_team).user)
    )
    before = Message.objects.count()

    assert client.get(messages_url(theirs.pk)).status_code == 404
    assert client.post(messages_url(theirs.pk), {"direction": "inbound", "body": "x"}).status_code == 404
    assert Message.objects.count() == before


@pytest.mark.parametrize("pk", ["999999", "abc", str(10**30)])
def test_messages_of_a_missing_interaction_are_404(write_client, pk):
    assert write_client.get(messages_url(pk)).status_code == 404
    assert write_client.post(messages_url(pk), {"direction": "inbound", "body": "x"}).status_code == 404


def test_the_message_list_costs_the_same_queries_for_5_or_50_messages(
    own_cache_generation, write_client, active, django_assert_max_num_queries
):
    write_client.get(messages_url(active.pk))  # the key's last-used stamp is written once, outside the budget
    MessageFactory.create_batch(5, interaction=active, author=active.agent.user)
    with django_assert_max_num_queries(3):
        assert len(write_client.get(messages_url(active.pk)).json()["results"]) == 5
    MessageFactory.create_batch(45, interaction=active, author=active.agent.user)
    with django_assert_max_num_queries(3):
        assert len(write_client.get(messages_url(active.pk)).json()["results"]) == 50


def test_a_message_body_over_one_megabyte_is_a_json_413(write_client, active):
    before = Message.objects.count()
    raw = json.dumps({"direction": "inbound", "body": "x" * (1024 * 1024 + 1)})

    response = write_client.generic("POST", messages_url(active.pk), raw, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["status"] == 413
    assert Message.objects.count() == before
