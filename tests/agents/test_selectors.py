"""Selectors: who sees which agents, list filters, and time in state from the status log."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from agents.access import NOBODY, viewer_for
from agents.models import Agent
from agents.selectors import agent_list, agent_status_durations, skill_list, team_list
from tests.agents.factories import (
    AdministratorFactory,
    AgentFactory,
    AgentSkillFactory,
    AgentStatusLogFactory,
    SkillFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_agent_list_applies_api_filters(agent_a, agent_b, team_a):
    AgentSkillFactory(agent=agent_b, skill__name="Billing")
    unrestricted = viewer_for(user=AdministratorFactory())
    assert list(agent_list(viewer=unrestricted, filters={"team": team_a.pk})) == [agent_a]
    assert list(agent_list(viewer=unrestricted, filters={"q": "bob"})) == [agent_b]


def test_agent_list_refuses_invalid_filters(agent_a):
    with pytest.raises(ValidationError):
        list(agent_list(viewer=viewer_for(user=agent_a.user), filters={"status": "lunch"}))


def test_agent_list_narrows_to_the_viewer(agent_a, agent_b, supervisor_a):
    assert list(agent_list(viewer=viewer_for(user=supervisor_a))) == [agent_a]
    assert list(agent_list(viewer=viewer_for(user=agent_b.user))) == [agent_b]
    assert list(agent_list(viewer=NOBODY)) == []
    assert list(agent_list(viewer=viewer_for(user=UserFactory(is_staff=True)))) == []


def test_team_list_and_skill_list(agent_a, team_a, team_b):
    SkillFactory(name="Billing"), SkillFactory(name="Tech")
    assert list(team_list(viewer=viewer_for(user=agent_a.user))) == [team_a]
    assert team_list(viewer=viewer_for(user=AdministratorFactory())).get(pk=team_a.pk).agent_count == 1
    # is_staff alone is no role: a staff user who supervises nothing lists no team
    assert list(team_list(viewer=viewer_for(user=UserFactory(is_staff=True)))) == []
    assert [s.name for s in skill_list(q="tec")] == ["Tech"]


# --- time in state ---------------------------------------------------------------------------------


@pytest.fixture
def timeline():
    """An agent created at 08:00 (offline), available 09:00, busy 09:30, available 10:00, offline 11:00 (yesterday)."""
    day = (timezone.now() - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    agent = AgentFactory()
    Agent.objects.filter(pk=agent.pk).update(created_at=day.replace(hour=8))
    agent.refresh_from_db()
    for hour, minute, previous, status in [
        (9, 0, "offline", "available"),
        (9, 30, "available", "busy"),
        (10, 0, "busy", "available"),
        (11, 0, "available", "offline"),
    ]:
        AgentStatusLogFactory(
            agent=agent, changed_at=day.replace(hour=hour, minute=minute), previous_status=previous, status=status
        )
    return agent, day


def test_durations_split_a_window_by_status(timeline):
    agent, day = timeline
    durations = agent_status_durations(agent=agent, start=day.replace(hour=9), end=day.replace(hour=11))
    assert durations == {
        "available": 5400.0,
        "busy": 1800.0,
        "offline": 0.0,
        "wrap_up": 0.0,
        "on_break": 0.0,
        "not_ready": 0.0,
    }


def test_durations_clip_spans_that_cross_the_window_edges(timeline):
    agent, day = timeline
    durations = agent_status_durations(
        agent=agent, start=day.replace(hour=9, minute=15), end=day.replace(hour=10, minute=15)
    )
    assert (durations["available"], durations["busy"]) == (1800.0, 1800.0)


def test_durations_count_the_status_the_window_opens_in(timeline):
    agent, day = timeline
    # no change inside the window: the agent was busy throughout
    durations = agent_status_durations(
        agent=agent, start=day.replace(hour=9, minute=40), end=day.replace(hour=9, minute=50)
    )
    assert durations["busy"] == 600.0 and sum(durations.values()) == 600.0


def test_durations_before_the_first_change_use_its_previous_status(timeline):
    agent, day = timeline
    durations = agent_status_durations(agent=agent, start=day.replace(hour=7), end=day.replace(hour=9, minute=30))
    # nothing before the agent existed (08:00); offline until 09:00
    assert (durations["offline"], durations["available"]) == (3600.0, 1800.0)


def test_durations_stop_at_now_for_the_current_status(timeline):
    agent, day = timeline
    end = timezone.now() + timedelta(days=1)
    durations = agent_status_durations(agent=agent, start=day.replace(hour=11), end=end)
    elapsed = (timezone.now() - day.replace(hour=11)).total_seconds()
    assert durations["offline"] == pytest.approx(elapsed, abs=5)


def test_durations_of_an_agent_without_log_are_their_status_since_creation():
    agent = AgentFactory()
    hour_ago = timezone.now() - timedelta(hours=1)
    Agent.objects.filter(pk=agent.pk).update(created_at=hour_ago)
    durations = agent_status_durations(agent=agent, start=hour_ago - timedelta(hours=1), end=timezone.now())
    assert durations["offline"] == pytest.approx(3600, abs=5)


def test_durations_of_an_empty_or_future_window_are_zero(timeline):
    agent, day = timeline
    tomorrow = timezone.now() + timedelta(days=1)
    assert sum(agent_status_durations(agent=agent, start=tomorrow, end=tomorrow + timedelta(hours=1)).values()) == 0
    assert sum(agent_status_durations(agent=agent, start=day.replace(hour=10), end=day.replace(hour=9)).values()) == 0


def test_durations_need_aware_datetimes(timeline):
    agent, day = timeline
    with pytest.raises(ValueError, match="aware"):
        agent_status_durations(agent=agent, start=day.replace(tzinfo=None), end=day)
