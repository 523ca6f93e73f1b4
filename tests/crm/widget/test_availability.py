"""Whether the widget says somebody can answer: the queue's business hours and an available agent serving it."""

import datetime

import pytest
from django.utils import timezone

from agents.services import agent_set_status
from crm.sla.models import BusinessHours, BusinessHoursHoliday, BusinessHoursPeriod
from crm.widget.selectors import widget_available
from tests.agents.factories import AgentFactory, AgentSkillFactory, SkillFactory
from tests.crm.factories import QueueSkillFactory, SLAPolicyFactory

from .conftest import chat_inbox

pytestmark = pytest.mark.django_db


def test_available_needs_an_available_agent_and_open_business_hours():
    inbox = chat_inbox()
    queue = inbox.queue
    assert not widget_available(inbox=inbox)  # nobody available
    agent = AgentFactory(team=queue.team, capacity={"chat": 2})
    agent_set_status(agent=agent, status="available", actor=agent.user)
    assert widget_available(inbox=inbox)

    calendar = BusinessHours.objects.create(name="Office", time_zone="UTC")
    for weekday in range(7):
        BusinessHoursPeriod.objects.create(
            calendar=calendar, weekday=weekday, start=datetime.time(0, 0), end=datetime.time(0, 0)
        )
    queue.sla_policy = SLAPolicyFactory(business_hours=calendar)
    queue.save()
    inbox.refresh_from_db()
    assert widget_available(inbox=inbox)  # open around the clock
    BusinessHoursHoliday.objects.create(calendar=calendar, date=timezone.now().date())
    calendar.save()  # a new updated_at: the compiled calendar is read again
    inbox = type(inbox).objects.select_related("queue__sla_policy__business_hours").get(pk=inbox.pk)
    assert not widget_available(inbox=inbox)  # a holiday today: closed


def test_available_needs_an_agent_with_the_queues_skills_and_one_query_however_many_agents(
    django_assert_num_queries,
):
    inbox = chat_inbox()
    queue = inbox.queue
    french = SkillFactory(name="French")
    QueueSkillFactory(queue=queue, skill=french, min_level=3)
    for _ in range(5):  # available, but without the skill or below its level
        agent = AgentFactory(team=queue.team, capacity={"chat": 2})
        agent_set_status(agent=agent, status="available", actor=agent.user)
    AgentSkillFactory(agent=agent, skill=french, level=2)
    inbox = type(inbox).objects.select_related("queue__sla_policy").get(pk=inbox.pk)
    with django_assert_num_queries(1):
        assert not widget_available(inbox=inbox)
    AgentSkillFactory(agent=AgentFactory(team=queue.team, status="busy"), skill=french, level=5)
    assert not widget_available(inbox=inbox)  # the one who can is not available
    AgentSkillFactory(agent=agent, skill=SkillFactory(), level=5)
    agent.agent_skills.filter(skill=french).update(level=4)
    assert widget_available(inbox=inbox)
    queue.is_active = False
    queue.save()
    inbox.refresh_from_db()
    assert not widget_available(inbox=inbox)  # a deactivated queue is served by nobody
