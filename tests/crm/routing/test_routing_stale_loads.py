"""The router plans with agents' work read without locks; work given to them meanwhile never overfills them."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from agents.choices import AgentStatus
from crm.choices import InteractionStatus
from crm.interactions import services as lifecycle
from crm.routing.services import router as routing
from crm.routing.services.router import route_next
from tests.agents.factories import AgentFactory, AgentSkillFactory, SkillFactory
from tests.crm.factories import InteractionFactory, QueueFactory, QueueSkillFactory

S = InteractionStatus


def _agent(*, skill, level, idle_minutes):
    agent = AgentFactory(
        status=AgentStatus.AVAILABLE,
        status_changed_at=timezone.now() - timedelta(minutes=idle_minutes),
        capacity={"chat": 1},
    )
    AgentSkillFactory(agent=agent, skill=skill, level=level)
    return agent


def _queued(queue):
    at = timezone.now() - timedelta(minutes=1)
    return InteractionFactory(queue=queue, channel="chat", created_at=at, queued_at=at)


@pytest.mark.django_db(transaction=True)
def test_work_given_to_the_planned_agent_after_the_read_sends_the_work_to_the_next_best(monkeypatch):
    skill = SkillFactory()
    queue, elsewhere = QueueFactory(), QueueFactory()
    QueueSkillFactory(queue=queue, skill=skill)
    best = _agent(skill=skill, level=5, idle_minutes=10)
    next_best = _agent(skill=skill, level=3, idle_minutes=10)
    work, taken_meanwhile = _queued(queue), _queued(elsewhere)
    read_agents = routing.read_agents

    def read_then_another_assigner_commits(**kwargs):
        states = read_agents(**kwargs)  # the best agent has room as read...

        def assign():  # ...then another connection gives them their last free chat and commits
            try:
                lifecycle.interaction_assign(interaction=taken_meanwhile, agent=best)
            finally:
                connection.close()

        other = threading.Thread(target=assign)
        other.start()
        other.join()
        return states

    monkeypatch.setattr(routing, "read_agents", read_then_another_assigner_commits)

    assigned = route_next(queue=queue)

    assert assigned is not None and assigned.pk == work.pk
    work.refresh_from_db()
    taken_meanwhile.refresh_from_db()
    assert (work.status, work.agent) == (S.ASSIGNED, next_best)
    assert (taken_meanwhile.status, taken_meanwhile.agent) == (S.ASSIGNED, best)  # one chat each: nobody over
