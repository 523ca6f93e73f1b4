"""Bad-outcome streaks (crm's input to the well-being policy) and the beat task that evaluates the policy."""

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.models import BreakDueNotice
from crm.choices import EscalationKind, InteractionStatus, SLAClock
from crm.interactions import services as lifecycle
from crm.interactions.models import Interaction
from crm.sla.models import Escalation
from crm.wellbeing.services import bad_outcome_streaks
from crm.wellbeing.tasks import break_policy_sweep_task
from tests.agents.factories import AgentFactory, AgentStatusLogFactory, BreakPolicyFactory, TeamFactory
from tests.crm.factories import SurveyFactory, SurveyResponseFactory, interaction_in_status

pytestmark = pytest.mark.django_db

S = InteractionStatus


def _finished(agent, *, csat=None, minutes_ago, abandoned_talking=False, escalated=False):
    if abandoned_talking:
        interaction = interaction_in_status(S.ON_HOLD, agent=agent)
        interaction = lifecycle.interaction_abandon(interaction=interaction)
        field = "abandoned_at"
    else:
        interaction = interaction_in_status(S.RESOLVED, agent=agent)
        field = "resolved_at"
    Interaction.objects.filter(pk=interaction.pk).update(**{field: timezone.now() - timedelta(minutes=minutes_ago)})
    if csat is not None:
        SurveyResponseFactory(survey=SurveyFactory(interaction=interaction), score=csat)
    if escalated:
        # the SLA sweep's record of a breached resolution target
        Escalation.objects.create(
            interaction=interaction,
            target=SLAClock.RESOLUTION,
            clock_started_at=interaction.created_at,
            step=0,
            kind=EscalationKind.BREACH,
            due_at=interaction.created_at,
            created_at=timezone.now(),
        )
    return interaction


def test_streak_counts_consecutive_bad_endings_back_from_the_latest():
    agent = AgentFactory()
    _finished(agent, csat=1, minutes_ago=50)  # before the good one: not in the streak
    _finished(agent, csat=5, minutes_ago=40)
    first_bad = _finished(agent, csat=2, minutes_ago=30)
    _finished(agent, abandoned_talking=True, minutes_ago=20)
    _finished(agent, escalated=True, minutes_ago=10)

    streaks = bad_outcome_streaks([agent], {agent.pk: timezone.now() - timedelta(hours=2)})

    first_bad.refresh_from_db()
    assert streaks[agent.pk].count == 3
    assert streaks[agent.pk].since == first_bad.resolved_at


def test_streak_starts_after_the_last_rest_and_a_good_latest_ending_means_none():
    tired, fine = AgentFactory(), AgentFactory()
    _finished(tired, csat=1, minutes_ago=30)
    _finished(tired, csat=1, minutes_ago=20)
    _finished(fine, csat=1, minutes_ago=20)
    _finished(fine, csat=3, minutes_ago=10)

    streaks = bad_outcome_streaks(
        [tired, fine], {tired.pk: timezone.now() - timedelta(minutes=25), fine.pk: timezone.now() - timedelta(hours=1)}
    )

    assert streaks[tired.pk].count == 1
    assert fine.pk not in streaks


def test_beat_task_records_a_due_break_after_a_run_of_bad_contacts_once():
    team = TeamFactory()
    BreakPolicyFactory(team=team, bad_outcome_streak=2)
    agent = AgentFactory(team=team, status="available", status_changed_at=timezone.now() - timedelta(minutes=60))
    AgentStatusLogFactory(agent=agent, status="available", changed_at=agent.status_changed_at)
    _finished(agent, csat=1, minutes_ago=20)
    _finished(agent, csat=2, minutes_ago=10)

    assert break_policy_sweep_task() == 1
    assert break_policy_sweep_task() == 0
    notice = BreakDueNotice.objects.get()
    assert (notice.agent_id, notice.reason) == (agent.pk, "bad_outcomes")
