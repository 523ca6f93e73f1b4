"""Services for agents' profiles, skills and teams."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError

from agents.models import Agent, AgentSkill, AgentStatusLog, Skill, Team
from agents.services import agent_create, agent_set_skills, agent_set_status, agent_skill_set, agent_update
from agents.teams import (
    skill_create,
    skill_delete,
    skill_update,
    team_add_supervisor,
    team_create,
    team_delete,
    team_remove_supervisor,
    team_update,
)
from config.errors import DomainError
from crm.access.services.api_keys import api_key_create
from tests.agents.factories import AgentFactory, AgentSkillFactory, SkillFactory, TeamFactory, UserFactory
from tests.crm.factories import QueueFactory, QueueSkillFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


def _field_errors(exc_info) -> dict:
    return exc_info.value.message_dict


# --- agent_create ----------------------------------------------------------------------------------


def test_create_makes_a_user_without_usable_password_and_an_offline_agent():
    team, billing = TeamFactory(), SkillFactory(name="Billing")

    agent = agent_create(
        username="maria",
        name=" Maria Lopez ",
        email="Maria@Example.COM",
        team=team,
        capacity={"voice": 1, "chat": 3},
        skills=[(billing, 4)],
    )

    agent = Agent.objects.select_related("user").get(pk=agent.pk)
    assert agent.user.username == "maria" and not agent.user.has_usable_password()
    assert agent.user.email == "Maria@example.com"  # the domain is normalised, the local part kept
    assert (agent.name, agent.team, agent.capacity, agent.status) == (
        "Maria Lopez",
        team,
        {"voice": 1, "chat": 3},
        "offline",
    )
    assert list(agent.agent_skills.values_list("skill__name", "level")) == [("Billing", 4)]
    assert not AgentStatusLog.objects.exists()


def test_create_adds_the_user_to_the_agent_group_when_it_exists():
    group, _ = Group.objects.get_or_create(name="Agent")  # crm's migrations create it; a flushed database has not
    agent = agent_create(username="maria", name="Maria")
    assert list(agent.user.groups.all()) == [group]


def test_create_without_agent_group_still_creates_the_agent():
    Group.objects.filter(name="Agent").delete()
    agent = agent_create(username="maria", name="Maria")
    assert agent.user.groups.count() == 0


def test_create_refuses_a_taken_username_regardless_of_case():
    UserFactory(username="Maria")
    with pytest.raises(ValidationError) as exc:
        agent_create(username="maria", name="Maria")
    assert "username" in _field_errors(exc)
    assert User.objects.count() == 1 and not Agent.objects.exists()


@pytest.mark.parametrize("username", ["", "  ", "has space", "slash/no", "x" * 151])
def test_create_refuses_an_invalid_username(username):
    with pytest.raises(ValidationError) as exc:
        agent_create(username=username, name="Someone")
    assert "username" in _field_errors(exc)
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "capacity",
    [
        {"fax": 1},
        {"chat": -1},
        {"chat": 51},
        {"chat": True},
        {"chat": "3"},
        {"chat": 2.5},
        ["chat", 3],
        "chat=3",
    ],
)
def test_create_refuses_bad_capacity_as_a_capacity_error(capacity):
    with pytest.raises(ValidationError) as exc:
        agent_create(username="maria", name="Maria", capacity=capacity)
    assert list(_field_errors(exc)) == ["capacity"]
    assert not User.objects.exists() and not Agent.objects.exists()


def test_capacity_accepts_every_channel_from_0_to_50():
    agent = agent_create(
        username="maria", name="Maria", capacity={"voice": 0, "email": 50, "chat": 3, "sms": 1, "social": 2, "web": 4}
    )
    assert agent.capacity_for("email") == 50


@pytest.mark.parametrize("level", [0, 6, True, "3"])
def test_create_refuses_skill_levels_outside_1_to_5(level):
    with pytest.raises(ValidationError) as exc:
        agent_create(username="maria", name="Maria", skills=[(SkillFactory(), level)])
    assert "skills" in _field_errors(exc)
    assert not Agent.objects.exists()


def test_create_refuses_a_skill_listed_twice():
    skill = SkillFactory()
    with pytest.raises(ValidationError) as exc:
        agent_create(username="maria", name="Maria", skills=[(skill, 2), (skill, 3)])
    assert "skills" in _field_errors(exc)


def test_create_refuses_a_blank_name_and_a_bad_email():
    with pytest.raises(ValidationError) as exc:
        agent_create(username="maria", name="  ")
    assert "name" in _field_errors(exc)
    with pytest.raises(ValidationError) as exc:
        agent_create(username="maria", name="Maria", email="not-an-email")
    assert "email" in _field_errors(exc)
    assert not User.objects.exists()


# --- agent_update / skills -----------------------------------------------------------------------------


def test_update_changes_only_what_is_given():
    agent = AgentFactory(name="Old", capacity={"chat": 1})
    new_team = TeamFactory()

    agent_update(agent=agent, name="New", email="new@example.com", team=new_team)

    agent = Agent.objects.select_related("user").get(pk=agent.pk)
    assert (agent.name, agent.team, agent.user.email, agent.capacity) == (
        "New",
        new_team,
        "new@example.com",
        {"chat": 1},
    )


def test_update_can_clear_the_team():
    agent = AgentFactory()
    agent_update(agent=agent, team=None)
    assert Agent.objects.get(pk=agent.pk).team is None


def test_update_refuses_bad_capacity_and_changes_nothing():
    agent = AgentFactory(name="Same", capacity={"chat": 1})
    with pytest.raises(ValidationError):
        agent_update(agent=agent, name="Changed", capacity={"chat": 99})
    agent.refresh_from_db()
    assert (agent.name, agent.capacity) == ("Same", {"chat": 1})


def test_deactivating_a_logged_in_agent_takes_them_offline_with_a_log_row():
    agent, admin = AgentFactory(), UserFactory()
    agent_set_status(agent=agent, status="available")

    agent_update(agent=agent, is_active=False, actor=admin)

    agent.refresh_from_db()
    assert (agent.is_active, agent.status) == (False, "offline")
    last = AgentStatusLog.objects.filter(agent=agent).first()
    assert (last.previous_status, last.status, last.actor, last.reason) == (
        "available",
        "offline",
        admin,
        "deactivated",
    )


def test_deactivating_an_offline_agent_logs_nothing():
    agent = AgentFactory()
    agent_update(agent=agent, is_active=False)
    assert not AgentStatusLog.objects.exists()


def test_update_with_skills_replaces_them():
    agent = AgentFactory()
    kept, dropped, added = SkillFactory.create_batch(3)
    AgentSkillFactory(agent=agent, skill=kept, level=1)
    AgentSkillFactory(agent=agent, skill=dropped, level=2)

    agent_update(agent=agent, skills=[(kept, 5), (added, 3)])

    assert dict(agent.agent_skills.values_list("skill", "level")) == {kept.pk: 5, added.pk: 3}


def test_set_skills_with_an_empty_list_removes_all():
    agent_skill = AgentSkillFactory()
    agent_set_skills(agent=agent_skill.agent, skills=[])
    assert not AgentSkill.objects.exists()


def test_skill_set_adds_or_changes_one_level():
    agent, skill = AgentFactory(), SkillFactory()
    agent_skill_set(agent=agent, skill=skill, level=2)
    agent_skill_set(agent=agent, skill=skill, level=4)
    assert list(agent.agent_skills.values_list("level", flat=True)) == [4]
    with pytest.raises(ValidationError):
        agent_skill_set(agent=agent, skill=skill, level=9)
    assert list(agent.agent_skills.values_list("level", flat=True)) == [4]


# --- skills ----------------------------------------------------------------------------------------------


def test_skill_names_are_unique_regardless_of_case():
    skill_create(name="Spanish", description="native level")
    with pytest.raises(ValidationError) as exc:
        skill_create(name=" SPANISH ")
    assert "name" in _field_errors(exc)
    assert Skill.objects.count() == 1


def test_skill_update_renames_and_refuses_a_taken_name():
    skill, other = SkillFactory(name="Billing"), SkillFactory(name="Tech")
    skill_update(skill=skill, name="Invoices", description="all billing")
    assert Skill.objects.get(pk=skill.pk).name == "Invoices"
    with pytest.raises(ValidationError):
        skill_update(skill=other, name="invoices")
    assert Skill.objects.get(pk=other.pk).name == "Tech"


def test_skill_update_may_change_only_the_case_of_its_own_name():
    skill = SkillFactory(name="billing")
    skill_update(skill=skill, name="Billing")
    assert Skill.objects.get(pk=skill.pk).name == "Billing"


def test_unused_skill_is_deleted():
    skill = SkillFactory()
    skill_delete(skill=skill)
    assert not Skill.objects.exists()


def test_skill_that_agents_have_cannot_be_deleted():
    agent_skill = AgentSkillFactory()
    with pytest.raises(DomainError, match="in use by 1 agent skill"):
        skill_delete(skill=agent_skill.skill)
    assert Skill.objects.filter(pk=agent_skill.skill_id).exists()


def test_skill_that_a_queue_requires_cannot_be_deleted():
    queue_skill = QueueSkillFactory()
    with pytest.raises(DomainError, match="queue skill"):
        skill_delete(skill=queue_skill.skill)
    assert Skill.objects.filter(pk=queue_skill.skill_id).exists()


# --- teams -----------------------------------------------------------------------------------------------


def test_team_create_with_supervisors():
    boss = UserFactory()
    team = team_create(name="Billing", description="invoices", supervisors=[boss])
    assert list(team.supervisors.all()) == [boss]
    with pytest.raises(ValidationError):
        team_create(name="billing")
    assert Team.objects.count() == 1


def test_team_update_replaces_supervisors_and_renames():
    old, new = UserFactory.create_batch(2)
    team = TeamFactory(name="A")
    team.supervisors.add(old)
    team_update(team=team, name="B", supervisors=[new])
    team.refresh_from_db()
    assert team.name == "B" and list(team.supervisors.all()) == [new]


def test_team_add_and_remove_supervisor():
    team, user = TeamFactory(), UserFactory()
    team_add_supervisor(team=team, user=user)
    team_add_supervisor(team=team, user=user)
    assert list(team.supervisors.all()) == [user]
    team_remove_supervisor(team=team, user=user)
    assert not team.supervisors.exists()


def test_empty_team_is_deleted():
    team = TeamFactory()
    team_delete(team=team)
    assert not Team.objects.exists()


def test_team_with_agents_cannot_be_deleted():
    agent = AgentFactory()
    with pytest.raises(DomainError, match="still has 1 agent"):
        team_delete(team=agent.team)
    assert Team.objects.filter(pk=agent.team_id).exists()


def test_team_with_queues_or_api_keys_cannot_be_deleted():
    team = TeamFactory()
    QueueFactory(team=team)
    api_key_create(name="team key", scopes=["read"], team=team)
    with pytest.raises(DomainError) as exc:
        team_delete(team=team)
    assert "1 queue" in str(exc.value) and "1 API key" in str(exc.value)
    assert Team.objects.filter(pk=team.pk).exists()
