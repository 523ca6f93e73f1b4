"""Routing honours well-being breaks and course certification of skills."""

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.breaks import break_end, break_send_now
from agents.choices import AgentStatus
from agents.models import TrainingRecord
from agents.services import agent_set_status
from agents.training import training_assign, training_record_result
from crm.choices import InteractionStatus
from crm.routing.services.router import route_next
from tests.agents.factories import AgentFactory, AgentSkillFactory, SkillFactory, TrainingCourseFactory
from tests.crm.factories import InteractionFactory, QueueFactory, QueueSkillFactory

pytestmark = pytest.mark.django_db


def _available_agent(skill=None):
    agent = AgentFactory()
    if skill is not None:
        AgentSkillFactory(agent=agent, skill=skill, level=3)
    agent_set_status(agent=agent, status=AgentStatus.AVAILABLE)
    return agent


def _gated_queue():
    skill = SkillFactory(name="Payments")
    queue = QueueFactory()
    QueueSkillFactory(queue=queue, skill=skill, min_level=2)
    course = TrainingCourseFactory(skill=skill, validity_days=365)
    return skill, queue, course


def _pass(agent, course, *, expires_at=None):
    (record,) = training_assign(course=course, agents=[agent]).created
    training_record_result(record=record, score=100)
    if expires_at is not None:
        TrainingRecord.objects.filter(pk=record.pk).update(expires_at=expires_at)


def test_gated_skill_with_expired_pass_is_not_routed_to():
    skill, queue, course = _gated_queue()
    agent = _available_agent(skill)
    _pass(agent, course, expires_at=timezone.now() - timedelta(minutes=1))
    InteractionFactory(queue=queue)

    assert route_next() is None


def test_gated_skill_with_valid_pass_is_routed_to():
    skill, queue, course = _gated_queue()
    uncertified = _available_agent(skill)
    certified = _available_agent(skill)
    _pass(certified, course)
    interaction = InteractionFactory(queue=queue)

    assigned = route_next()

    assert assigned.pk == interaction.pk and assigned.agent_id == certified.pk
    assert uncertified.pk != certified.pk


def test_inactive_course_gates_nothing():
    skill, queue, course = _gated_queue()
    course.is_active = False
    course.save(update_fields=["is_active"])
    agent = _available_agent(skill)
    InteractionFactory(queue=queue)

    assert route_next().agent_id == agent.pk


def test_a_course_that_certifies_no_skill_gates_nothing():
    skill = SkillFactory(name="Refunds")
    queue = QueueFactory()
    QueueSkillFactory(queue=queue, skill=skill, min_level=2)
    TrainingCourseFactory(skill=None)  # an active course certifying no skill (its skill was deleted)
    agent = _available_agent(skill)
    InteractionFactory(queue=queue)

    assert route_next().agent_id == agent.pk


def test_agent_on_break_gets_nothing_new_and_keeps_current_work_then_gets_work_after_the_break():
    queue = QueueFactory()
    agent = _available_agent()
    first = InteractionFactory(queue=queue)
    assert route_next().pk == first.pk

    brk = break_send_now(agent=agent, actor=None)
    InteractionFactory(queue=queue)
    assert route_next() is None
    first.refresh_from_db()
    assert first.status == InteractionStatus.ASSIGNED and first.agent_id == agent.pk  # current work stays

    break_end(brk=brk, actor=None)
    assert route_next().agent_id == agent.pk
