"""Invariants the database holds on its own, whatever code writes."""

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models.deletion import ProtectedError

from agents.models import Agent, AgentSkill, AgentStatusLog, Skill, Team
from agents.services import agent_set_status
from tests.agents.factories import (
    AgentFactory,
    AgentSkillFactory,
    AgentStatusLogFactory,
    SkillFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_status_log_row_cannot_be_updated():
    row = AgentStatusLogFactory(status="available")
    row.status = "busy"
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        row.save()
    assert AgentStatusLog.objects.get(pk=row.pk).status == "available"


def test_status_log_cannot_be_rewritten_in_bulk():
    AgentStatusLogFactory.create_batch(2, reason="")
    with pytest.raises(IntegrityError), transaction.atomic():
        AgentStatusLog.objects.update(reason="tidied up")
    assert set(AgentStatusLog.objects.values_list("reason", flat=True)) == {""}


def test_status_log_actor_cannot_be_swapped_for_another_user():
    row = AgentStatusLogFactory(actor=UserFactory())
    with pytest.raises(IntegrityError), transaction.atomic():
        AgentStatusLog.objects.filter(pk=row.pk).update(actor=UserFactory())


def test_deleting_a_user_who_changed_a_status_keeps_the_log_row_without_actor():
    supervisor = UserFactory()
    agent = AgentFactory()
    agent_set_status(agent=agent, status="available", actor=supervisor, reason="shift start")

    supervisor.delete()

    row = AgentStatusLog.objects.get(agent=agent)
    assert (row.actor_id, row.status, row.reason) == (None, "available", "shift start")


@pytest.mark.parametrize("level", [0, 6])
def test_skill_level_outside_1_to_5_is_refused(level):
    with pytest.raises(IntegrityError), transaction.atomic():
        AgentSkillFactory(level=level)
    assert AgentSkill.objects.count() == 0


def test_an_agent_has_a_skill_once():
    existing = AgentSkillFactory(level=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        AgentSkill.objects.create(agent=existing.agent, skill=existing.skill, level=4)


def test_a_user_has_at_most_one_agent_profile():
    agent = AgentFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Agent.objects.create(user=agent.user, name="Second profile")
    assert Agent.objects.filter(user=agent.user).count() == 1


def test_agent_status_must_be_a_known_status():
    agent = AgentFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Agent.objects.filter(pk=agent.pk).update(status="lunch")


def test_team_and_skill_names_are_unique_regardless_of_case():
    TeamFactory(name="Billing")
    SkillFactory(name="Spanish")
    with pytest.raises(IntegrityError), transaction.atomic():
        Team.objects.create(name="BILLING")
    with pytest.raises(IntegrityError), transaction.atomic():
        Skill.objects.create(name="spanish")


def test_a_skill_an_agent_has_cannot_be_deleted():
    agent_skill = AgentSkillFactory()
    with pytest.raises(ProtectedError):
        agent_skill.skill.delete()


def test_deleting_a_team_keeps_its_agents_without_team():
    agent = AgentFactory()
    agent.team.delete()
    agent.refresh_from_db()
    assert agent.team is None


def test_capacity_for_a_channel_not_listed_is_zero():
    agent = AgentFactory(capacity={"chat": 3})
    assert (agent.capacity_for("chat"), agent.capacity_for("voice")) == (3, 0)


def test_deleting_a_user_deletes_their_agent_profile():
    agent = AgentFactory()
    agent_set_status(agent=agent, status="available")
    get_user_model().objects.filter(pk=agent.user_id).delete()
    assert not Agent.objects.filter(pk=agent.pk).exists()
