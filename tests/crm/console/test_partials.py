"""The console partials for training, breaks and reviews render from their documented selectors."""

from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from agents.break_policy import break_due_sweep
from agents.breaks import break_request, break_send_now, break_type_get
from agents.choices import AgentStatus, BreakKind
from agents.models import BreakType, TrainingRecord
from agents.selectors import agent_break_state, agent_training_status
from agents.training import training_assign, training_record_result
from crm.choices import InteractionStatus
from crm.quality.models import Scorecard, ScorecardCriterion
from crm.quality.selectors import agent_qa_scores, agent_reviews
from crm.quality.services import SampleSpec, review_complete, review_sample
from tests.agents.factories import (
    AgentFactory,
    AgentStatusLogFactory,
    BreakPolicyFactory,
    SkillFactory,
    TrainingCourseFactory,
)
from tests.crm.factories import interaction_in_status

pytestmark = pytest.mark.django_db


def test_training_partial_shows_expiring_and_overdue_courses():
    agent = AgentFactory()
    course = TrainingCourseFactory(title="Payments", skill=SkillFactory(name="Cards"))
    (record,) = training_assign(course=course, agents=[agent]).created
    training_record_result(record=record, score=100)
    TrainingRecord.objects.filter(pk=record.pk).update(expires_at=timezone.now() + timedelta(days=5, hours=1))
    (late,) = training_assign(course=TrainingCourseFactory(title="Privacy"), agents=[agent]).created
    TrainingRecord.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(days=2))

    html = render_to_string("console/_training.html", {"training_rows": agent_training_status(agent=agent)})

    assert "Payments" in html and "expires in 5 days" in html
    assert "Privacy" in html and "overdue since" in html


def test_break_partial_prompts_when_due_and_shows_the_timer_when_on_break():
    now = timezone.now()
    agent = AgentFactory()
    BreakPolicyFactory(team=agent.team, continuous_handling_minutes=60)
    AgentStatusLogFactory(agent=agent, status=AgentStatus.BUSY, changed_at=now - timedelta(minutes=70))
    agent.status = AgentStatus.BUSY
    agent.save(update_fields=["status"])
    break_due_sweep(now=now)
    types = BreakType.objects.filter(is_active=True)
    break_type_get(code=BreakKind.WELL_BEING)

    due = render_to_string("console/_break.html", {"break_state": agent_break_state(agent=agent), "break_types": types})
    brk = break_send_now(agent=agent, actor=None)
    running = render_to_string(
        "console/_break.html", {"break_state": agent_break_state(agent=agent), "break_types": types}
    )

    assert "well-being break" in due and 'data-api="/api/v1/breaks/"' in due
    assert f'data-api="/api/v1/breaks/{brk.pk}/end"' in running and "data-ends-at" in running


def test_break_partial_offers_to_take_an_approved_break():
    agent = AgentFactory()
    brk = break_request(agent=agent, break_type=break_type_get(code=BreakKind.LUNCH), actor=None, approved=True)
    html = render_to_string("console/_break.html", {"break_state": agent_break_state(agent=agent), "break_types": []})
    assert f"/api/v1/breaks/{brk.pk}/start" in html


def test_reviews_partial_lists_completed_reviews_and_the_qa_score():
    card = Scorecard.objects.create(name="Partial card")
    ScorecardCriterion.objects.create(scorecard=card, name="Accuracy", weight=1)
    agent = AgentFactory()
    interaction_in_status(InteractionStatus.RESOLVED, agent=agent)
    now = timezone.now()
    (review,) = review_sample(spec=SampleSpec(scorecard=card, start=now - timedelta(hours=1), end=now, count=1))
    review_complete(review=review, reviewer=None, scores={"Accuracy": 3}, comment="Check the refund rules.")

    html = render_to_string(
        "console/_reviews.html",
        {"reviews": agent_reviews(agent=agent), "qa_score": agent_qa_scores(agent_ids=[agent.pk]).get(agent.pk)},
    )

    assert "60/100" in html and "Accuracy: 3/5" in html and "Check the refund rules." in html
    assert "QA score: <strong>60.0</strong> over 1 review" in html
