import pytest
from rest_framework.test import APIClient

from agents.choices import AgentStatus
from crm.choices import InteractionEventKind, InteractionStatus, MessageDirection
from crm.interactions.models import Interaction, InteractionEvent, Message
from tests.agents.factories import AgentFactory, TeamFactory
from tests.crm.factories import QueueFactory, interaction_in_status

pytestmark = pytest.mark.django_db

S = InteractionStatus


def url(pk):
    return f"/api/v1/interactions/{pk}/transfer"


def counts():
    return InteractionEvent.objects.count(), Message.objects.count()


@pytest.fixture
def team_a():
    return TeamFactory(name="Team A")


@pytest.fixture
def queue_a(team_a):
    return QueueFactory(team=team_a, channels=["chat", "email", "voice"])


@pytest.fixture
def key_a(key_client_factory, team_a):
    return key_client_factory(["read", "write"], team=team_a)


def _available(team, **kwargs):
    return AgentFactory(team=team, status=AgentStatus.AVAILABLE, **kwargs)


def _unchanged(interaction, before):
    stored = Interaction.objects.get(pk=interaction.pk)
    return (stored.status, stored.queue_id, stored.agent_id) == before


def test_transfer_to_a_queue_answers_the_requeued_interaction(write_client, queue_a, team_a):
    interaction = interaction_in_status(S.ACTIVE, queue=queue_a)
    billing = QueueFactory(team=team_a, channels=["chat"])

    response = write_client.post(url(interaction.pk), {"queue": billing.pk, "note": "refund"}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["queue"], body["agent"]) == (S.QUEUED, billing.pk, None)
    event = InteractionEvent.objects.get(interaction=interaction, kind=InteractionEventKind.TRANSFERRED)
    assert event.data["note"] == "refund"
    assert not Message.objects.filter(interaction=interaction).exists()  # a key writes no internal note


def test_transfer_to_an_agent_answers_it_assigned_to_them(write_client, queue_a, team_a):
    interaction = interaction_in_status(S.ON_HOLD, queue=queue_a)
    colleague = _available(team_a)

    response = write_client.post(url(interaction.pk), {"agent": colleague.pk}, format="json")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["agent"]) == (S.ASSIGNED, colleague.pk)


def test_a_signed_in_supervisor_leaves_the_note_as_an_internal_message(queue_a, team_a, staff_client, staff_user):
    interaction = interaction_in_status(S.ACTIVE, queue=queue_a)

    response = staff_client.post(
        url(interaction.pk), {"agent": _available(team_a).pk, "note": "knows the account"}, format="json"
    )

    assert response.status_code == 200
    note = Message.objects.get(interaction=interaction)
    assert (note.direction, note.author, note.body) == (MessageDirection.INTERNAL, staff_user, "knows the account")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "queue"),
        ({"queue": "BILLING", "agent": "AGENT"}, "queue"),
        ({"queue": 999999}, "queue"),
        ({"agent": 999999}, "agent"),
        ({"queue": "x"}, "queue"),
        ({"queue": "EMAIL_ONLY"}, "queue"),
        ({"queue": "BILLING", "note": 5}, "note"),
        ({"queue": "BILLING", "reason": "x"}, "reason"),
    ],
)
def test_transfer_rejects_bad_input_and_changes_nothing(write_client, queue_a, team_a, payload, field):
    interaction = interaction_in_status(S.ACTIVE, queue=queue_a)
    named = {
        "BILLING": QueueFactory(team=team_a, channels=["chat"]).pk,
        "EMAIL_ONLY": QueueFactory(team=team_a, channels=["email"]).pk,
        "AGENT": _available(team_a).pk,
    }
    payload = {k: named.get(v, v) if isinstance(v, str) else v for k, v in payload.items()}
    before, status = counts(), (S.ACTIVE, queue_a.pk, interaction.agent_id)

    response = write_client.post(url(interaction.pk), payload, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert counts() == before
    assert _unchanged(interaction, status)


@pytest.mark.parametrize(
    ("status", "target", "message"),
    [
        (S.QUEUED, "queue", "it cannot be transferred. It can be transferred from: assigned, active, on_hold."),
        (S.RESOLVED, "queue", "it cannot be transferred"),
        (S.ACTIVE, "busy_agent", "has no room for another chat interaction"),
        (S.ACTIVE, "offline_agent", "only be transferred to an available agent"),
    ],
)
def test_an_impossible_transfer_is_a_409_that_says_why(write_client, queue_a, team_a, status, target, message):
    interaction = interaction_in_status(status, queue=queue_a)
    payload = {
        "queue": {"queue": QueueFactory(team=team_a, channels=["chat"]).pk},
        "busy_agent": {"agent": _available(team_a, capacity={"chat": 0}).pk},
        "offline_agent": {"agent": AgentFactory(team=team_a).pk},
    }[target]
    before, snapshot = counts(), (interaction.status, interaction.queue_id, interaction.agent_id)

    response = write_client.post(url(interaction.pk), payload, format="json")

    assert response.status_code == 409
    assert message in response.json()["detail"]
    assert counts() == before
    assert _unchanged(interaction, snapshot)


@pytest.mark.parametrize("target", ["queue", "agent"])
def test_a_team_key_may_transfer_only_to_its_teams_queues_and_agents(key_a, queue_a, team_a, target):
    interaction = interaction_in_status(S.ACTIVE, queue=queue_a)
    team_b = TeamFactory(name="Team B")
    theirs = QueueFactory(team=team_b, channels=["chat"]) if target == "queue" else _available(team_b)
    before, snapshot = counts(), (S.ACTIVE, queue_a.pk, interaction.agent_id)

    response = key_a.post(url(interaction.pk), {target: theirs.pk}, format="json")

    assert response.status_code == 400
    assert target in response.json()
    assert counts() == before
    assert _unchanged(interaction, snapshot)

    ours = QueueFactory(team=team_a, channels=["chat"]) if target == "queue" else _available(team_a)
    assert key_a.post(url(interaction.pk), {target: ours.pk}, format="json").status_code == 200


def test_another_teams_interaction_is_404(key_a, team_a):
    theirs = interaction_in_status(S.ACTIVE, queue=QueueFactory(team=TeamFactory(name="Team B"), channels=["chat"]))
    before = counts()

    response = key_a.post(url(theirs.pk), {"queue": QueueFactory(team=team_a, channels=["chat"]).pk}, format="json")

    assert response.status_code == 404
    assert counts() == before


def test_transfer_needs_a_key_with_write_scope(api_client, read_client, queue_a):
    interaction = interaction_in_status(S.ACTIVE, queue=queue_a)
    payload = {"queue": QueueFactory(channels=["chat"]).pk}

    assert api_client.post(url(interaction.pk), payload, format="json").status_code == 401
    assert read_client.post(url(interaction.pk), payload, format="json").status_code == 403
    invalid = APIClient()
    invalid.credentials(HTTP_AUTHORIZATION="Bearer not-a-key")
    assert invalid.post(url(interaction.pk), payload, format="json").status_code == 401
    assert Interaction.objects.get(pk=interaction.pk).status == S.ACTIVE
