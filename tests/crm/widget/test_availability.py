"""Whether the widget says somebody can answer: the queue's business hours and an available agent serving it."""

import datetime

import pytest
from django.utils import timezone

from agents.services import agent_set_status
from crm.sla.models import BusinessHours, BusinessHoursHoliday, BusinessHoursPeriod
from crm.widget.selectors import widget_available
from tests.agents.factories import AgentFactory
from tests.crm.factories import SLAPolicyFactory

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
