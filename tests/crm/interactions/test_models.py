import pytest
from django.db import IntegrityError, transaction

from crm.choices import InteractionStatus
from crm.interactions.models import Interaction
from tests.agents.factories import AgentFactory
from tests.crm.factories import InteractionFactory

pytestmark = pytest.mark.django_db

S = InteractionStatus


@pytest.mark.parametrize("status", [S.ASSIGNED, S.ACTIVE, S.ON_HOLD, S.WRAP_UP])
def test_an_owned_interaction_must_have_an_agent(status):
    with pytest.raises(IntegrityError, match="interaction_owned_has_agent"), transaction.atomic():
        InteractionFactory(status=status, agent=None)

    assert Interaction.objects.count() == 0


def test_owned_work_with_its_agent_and_unowned_work_without_one_are_both_fine():
    InteractionFactory(status=S.ACTIVE, agent=AgentFactory())
    InteractionFactory(status=S.QUEUED, agent=None)
    InteractionFactory(status=S.ABANDONED, agent=None)

    assert Interaction.objects.count() == 3


def test_an_external_id_is_unique_per_channel_and_blank_ids_never_collide():
    InteractionFactory(channel="chat", external_id="abc")
    InteractionFactory(channel="voice", external_id="abc")
    InteractionFactory(channel="chat", external_id="")
    InteractionFactory(channel="chat", external_id="")

    with pytest.raises(IntegrityError, match="interaction_external_id_unique"), transaction.atomic():
        InteractionFactory(channel="chat", external_id="abc")

    assert Interaction.objects.count() == 4


def test_an_interaction_cannot_follow_up_itself():
    interaction = InteractionFactory()

    with pytest.raises(IntegrityError, match="interaction_follow_up_not_self"), transaction.atomic():
        Interaction.objects.filter(pk=interaction.pk).update(follow_up_of=interaction)

    assert Interaction.objects.get(pk=interaction.pk).follow_up_of is None


def test_an_unknown_status_is_refused_by_the_database():
    with pytest.raises(IntegrityError, match="interaction_status_valid"), transaction.atomic():
        InteractionFactory(status="lost")
