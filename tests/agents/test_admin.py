"""The admin: lists, read-only status log, and status changes through the service."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from agents.models import Agent, AgentStatusLog
from agents.services import agent_set_status
from tests.agents.factories import AgentFactory, AgentSkillFactory, SkillFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _inline_management(prefix="agent_skills", total=0, initial=0) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


@pytest.mark.parametrize("model", ["agent", "team", "skill", "agentstatuslog"])
def test_changelists_render_with_search_and_filters(admin_client, model):
    agent = AgentFactory(name="Alice", capacity={"chat": 3, "voice": 1})
    AgentSkillFactory(agent=agent)
    agent_set_status(agent=agent, status="available")
    url = reverse(f"admin:agents_{model}_changelist")
    assert admin_client.get(url).status_code == 200
    assert admin_client.get(url, {"q": "Alice"}).status_code == 200


def test_agent_list_shows_capacity_summary_and_filters_by_skill(admin_client):
    agent = AgentFactory(name="Alice", capacity={"voice": 1, "chat": 3})
    skill = SkillFactory()
    AgentSkillFactory(agent=agent, skill=skill)
    AgentFactory(name="Zed")
    response = admin_client.get(reverse("admin:agents_agent_changelist"), {"skills__id__exact": skill.pk})
    assert "chat 3, voice 1" in response.content.decode()
    assert "Zed" not in response.content.decode()


def test_team_and_skill_lists_show_agent_counts(admin_client):
    team = TeamFactory(name="Billing")
    AgentFactory.create_batch(2, team=team)
    response = admin_client.get(reverse("admin:agents_team_changelist"))
    assert '<td class="field-agent_count">2</td>' in response.content.decode()


def test_status_log_cannot_be_added_changed_or_deleted(admin_client):
    agent = AgentFactory()
    agent_set_status(agent=agent, status="available")
    row = AgentStatusLog.objects.get()
    assert admin_client.get(reverse("admin:agents_agentstatuslog_add")).status_code == 403
    change = admin_client.get(reverse("admin:agents_agentstatuslog_change", args=[row.pk]))
    assert change.status_code == 200 and 'name="_save"' not in change.content.decode()
    assert (
        admin_client.post(reverse("admin:agents_agentstatuslog_change", args=[row.pk]), {"status": "busy"}).status_code
        == 403
    )
    assert (
        admin_client.post(reverse("admin:agents_agentstatuslog_delete", args=[row.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert AgentStatusLog.objects.get().status == "available"


def test_set_available_action_goes_through_the_service(admin_client, admin_user):
    agents = AgentFactory.create_batch(2)
    response = admin_client.post(
        reverse("admin:agents_agent_changelist"),
        {"action": "set_available", "_selected_action": [a.pk for a in agents]},
    )
    assert response.status_code == 302
    assert set(Agent.objects.values_list("status", flat=True)) == {"available"}
    assert set(AgentStatusLog.objects.values_list("actor", "reason")) == {(admin_user.pk, "set in admin")}
    assert "2 agents now available." in _messages(response)


def test_set_available_reports_a_refused_change_as_an_error(admin_client):
    inactive = AgentFactory(is_active=False, name="Idle")
    response = admin_client.post(
        reverse("admin:agents_agent_changelist"), {"action": "set_available", "_selected_action": [inactive.pk]}
    )
    assert response.status_code == 302
    assert any("inactive" in m for m in _messages(response))
    assert Agent.objects.get(pk=inactive.pk).status == "offline" and not AgentStatusLog.objects.exists()


def test_set_offline_action(admin_client):
    agent = AgentFactory()
    agent_set_status(agent=agent, status="available")
    admin_client.post(
        reverse("admin:agents_agent_changelist"), {"action": "set_offline", "_selected_action": [agent.pk]}
    )
    assert Agent.objects.get(pk=agent.pk).status == "offline"


def test_status_is_read_only_on_the_agent_form(admin_client):
    agent = AgentFactory(name="Alice")
    url = reverse("admin:agents_agent_change", args=[agent.pk])
    response = admin_client.post(
        url,
        {"name": "Alice", "team": agent.team_id, "capacity": '{"chat": 3}', "is_active": "on", "status": "busy"}
        | _inline_management(),
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    assert (agent.status, agent.capacity) == ("offline", {"chat": 3})


def test_agent_form_refuses_bad_capacity(admin_client):
    agent = AgentFactory(capacity={"chat": 3})
    url = reverse("admin:agents_agent_change", args=[agent.pk])
    response = admin_client.post(
        url,
        {"name": agent.name, "team": agent.team_id, "capacity": '{"fax": 99}', "is_active": "on"}
        | _inline_management(),
    )
    assert response.status_code == 200 and "Unknown channel" in response.content.decode()
    assert Agent.objects.get(pk=agent.pk).capacity == {"chat": 3}


def test_deactivating_in_the_admin_logs_the_agent_out(admin_client, admin_user):
    agent = AgentFactory()
    agent_set_status(agent=agent, status="available")
    url = reverse("admin:agents_agent_change", args=[agent.pk])
    response = admin_client.post(
        url, {"name": agent.name, "team": agent.team_id, "capacity": '{"chat": 3}'} | _inline_management()
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    assert (agent.is_active, agent.status) == (False, "offline")
    assert AgentStatusLog.objects.filter(agent=agent).first().actor == admin_user


def test_agent_skills_are_edited_inline_with_level_checked(admin_client):
    agent, skill = AgentFactory(), SkillFactory()
    url = reverse("admin:agents_agent_change", args=[agent.pk])
    base = {"name": agent.name, "team": agent.team_id, "capacity": "{}", "is_active": "on"} | _inline_management(
        total=1
    )
    bad = admin_client.post(url, base | {"agent_skills-0-skill": skill.pk, "agent_skills-0-level": "9"})
    assert bad.status_code == 200 and not agent.agent_skills.exists()
    good = admin_client.post(url, base | {"agent_skills-0-skill": skill.pk, "agent_skills-0-level": "4"})
    assert good.status_code == 302
    assert list(agent.agent_skills.values_list("level", flat=True)) == [4]


def test_add_agent_profile_for_an_existing_user(admin_client):
    user, team = UserFactory(), TeamFactory()
    response = admin_client.post(
        reverse("admin:agents_agent_add"),
        {"user": user.pk, "name": "New Agent", "team": team.pk, "capacity": '{"email": 5}', "is_active": "on"}
        | _inline_management(),
    )
    assert response.status_code == 302
    assert Agent.objects.get(user=user).capacity == {"email": 5}


def test_status_actions_need_the_change_permission(client):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_agent"))
    client.force_login(viewer)
    agent = AgentFactory()
    response = client.post(
        reverse("admin:agents_agent_changelist"), {"action": "set_available", "_selected_action": [agent.pk]}
    )
    assert response.status_code == 200  # the action is not offered: the list is shown again
    assert Agent.objects.get(pk=agent.pk).status == "offline" and not AgentStatusLog.objects.exists()


def test_changing_a_users_email_in_the_admin_tells_the_old_address(
    admin_client, mailoutbox, django_capture_on_commit_callbacks
):
    user = UserFactory(username="moved", email="old@example.com")
    url = reverse("admin:auth_user_change", args=[user.pk])
    data = {
        "username": "moved",
        "email": "new@example.com",
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "initial-date_joined_0": "2026-01-01",
        "initial-date_joined_1": "00:00:00",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    user.refresh_from_db()
    assert user.email == "new@example.com"
    assert [m.to for m in mailoutbox] == [["old@example.com"]]
    assert "new@example.com" in mailoutbox[0].body
