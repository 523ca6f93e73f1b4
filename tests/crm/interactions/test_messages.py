import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from config.errors import DomainError
from crm.choices import InteractionEventKind, InteractionStatus, MessageDirection
from crm.interactions.models import Interaction, InteractionEvent, Message
from crm.interactions.services.messages import message_create
from crm.interactions.signals import message_created
from tests.agents.factories import UserFactory
from tests.crm.factories import interaction_in_status

pytestmark = pytest.mark.django_db

S = InteractionStatus
D = MessageDirection


def test_the_first_outbound_message_stamps_the_first_response_once():
    interaction = interaction_in_status(S.ACTIVE)
    agent_user = interaction.agent.user

    message_create(interaction=interaction, direction=D.INBOUND, body="Are you there?")
    assert Interaction.objects.get(pk=interaction.pk).first_response_at is None

    first = message_create(interaction=interaction, direction=D.OUTBOUND, body="Yes, hello!", author=agent_user)
    message_create(interaction=interaction, direction=D.OUTBOUND, body="Anything else?", author=agent_user)

    stored = Interaction.objects.get(pk=interaction.pk)
    assert stored.first_response_at == first.created_at
    assert interaction.first_response_at == first.created_at
    event = InteractionEvent.objects.get(interaction=interaction, kind=InteractionEventKind.FIRST_RESPONSE)
    assert (event.actor, event.data) == (agent_user, {"message_id": first.pk})


def test_a_message_keeps_its_attachments_metadata():
    interaction = interaction_in_status(S.QUEUED)
    attachment = {"name": "invoice.pdf", "content_type": "application/pdf", "size": 1234, "url": "https://x.test/i"}

    message = message_create(interaction=interaction, direction=D.INBOUND, body="see file", attachments=[attachment])

    assert Message.objects.get(pk=message.pk).attachments == [attachment]


@pytest.mark.parametrize("body", ["", "   \n"])
def test_a_message_needs_a_body(body):
    interaction = interaction_in_status(S.QUEUED)

    with pytest.raises(ValidationError) as exc:
        message_create(interaction=interaction, direction=D.INBOUND, body=body)

    assert "body" in exc.value.message_dict
    assert Message.objects.filter(interaction=interaction).count() == 0


@override_settings(SWITCHBOARD_MAX_MESSAGE_LENGTH=20)
def test_a_message_longer_than_the_maximum_is_refused_and_the_maximum_is_accepted():
    interaction = interaction_in_status(S.QUEUED)

    with pytest.raises(ValidationError, match="at most 20 characters"):
        message_create(interaction=interaction, direction=D.INBOUND, body="x" * 21)
    message_create(interaction=interaction, direction=D.INBOUND, body="x" * 20)

    assert Message.objects.filter(interaction=interaction).count() == 1


@pytest.mark.parametrize("status", [S.CLOSED, S.ABANDONED])
def test_no_messages_on_closed_or_abandoned_interactions(status):
    interaction = interaction_in_status(status)
    before = Message.objects.filter(interaction=interaction).count()

    with pytest.raises(DomainError, match=f"is {status}; no messages"):
        message_create(interaction=interaction, direction=D.OUTBOUND, body="Hello?", author=UserFactory())

    assert Message.objects.filter(interaction=interaction).count() == before
    assert Interaction.objects.get(pk=interaction.pk).first_response_at is None


def test_messages_are_allowed_on_resolved_work():
    interaction = interaction_in_status(S.RESOLVED)

    message_create(interaction=interaction, direction=D.INBOUND, body="Thanks!")

    assert Message.objects.filter(interaction=interaction, body="Thanks!").exists()


def test_internal_notes_need_a_user_author():
    interaction = interaction_in_status(S.ACTIVE)

    with pytest.raises(ValidationError) as exc:
        message_create(interaction=interaction, direction=D.INTERNAL, body="VIP, be gentle")
    note = message_create(interaction=interaction, direction=D.INTERNAL, body="VIP", author=interaction.agent.user)

    assert "direction" in exc.value.message_dict
    assert list(Message.objects.filter(interaction=interaction, direction=D.INTERNAL)) == [note]
    assert Interaction.objects.get(pk=interaction.pk).first_response_at is None


def test_an_unknown_direction_is_refused():
    interaction = interaction_in_status(S.QUEUED)

    with pytest.raises(ValidationError):
        message_create(interaction=interaction, direction="sideways", body="x")

    assert not Message.objects.filter(interaction=interaction).exists()


def test_a_new_message_is_announced_after_commit(django_capture_on_commit_callbacks):
    interaction = interaction_in_status(S.QUEUED)
    seen = []

    def receiver(sender, **kwargs):
        seen.append((kwargs["interaction_id"], kwargs["direction"]))

    message_created.connect(receiver, dispatch_uid="test-message-receiver")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            message_create(interaction=interaction, direction=D.INBOUND, body="Hi")
    finally:
        message_created.disconnect(dispatch_uid="test-message-receiver")

    assert seen == [(interaction.pk, D.INBOUND)]
