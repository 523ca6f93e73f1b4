"""The issue's "known failures of peers": scenarios other contact centers get wrong, each a regression test.

Where the trigger path matters (signal → on-commit → task → router) Celery runs eagerly, so the test shows
the work moving at the moment of the change, with no periodic run involved.
"""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from agents.choices import AgentStatus
from agents.services import agent_set_status
from config.errors import IllegalTransition
from crm.choices import OWNED_STATUSES, InteractionEventKind, InteractionStatus
from crm.interactions import services as lifecycle
from crm.interactions.models import Assignment, Interaction, InteractionEvent
from crm.routing.services.router import route_next, route_pending
from tests.agents.factories import AgentFactory
from tests.crm.factories import InteractionFactory, QueueFactory, interaction_in_status

pytestmark = pytest.mark.django_db

S = InteractionStatus
A = AgentStatus


def _agent(*, status=A.AVAILABLE, idle_minutes=5, capacity=None):
    return AgentFactory(
        status=status,
        status_changed_at=timezone.now() - timedelta(minutes=idle_minutes),
        capacity=capacity or {"chat": 3},
    )


def _queued(*, queue, waited_minutes=0):
    at = timezone.now() - timedelta(minutes=waited_minutes)
    return InteractionFactory(queue=queue, created_at=at, queued_at=at)


# (a) ---------------------------------------------------------------------------------------------------


def test_work_waiting_when_an_agent_comes_online_is_routed_by_the_commit_not_the_beat(
    eager_tasks, django_capture_on_commit_callbacks
):
    queue = QueueFactory(channels=["chat"])
    waiting = [_queued(queue=queue, waited_minutes=10 - i) for i in range(2)]
    agent = _agent(status=A.OFFLINE)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        agent_set_status(agent=agent, status=A.AVAILABLE, reason="shift start")

    assert callbacks  # the routing request rode on the commit
    for interaction in waiting:
        interaction.refresh_from_db()
        assert (interaction.status, interaction.agent) == (S.ASSIGNED, agent)


# (b) ---------------------------------------------------------------------------------------------------


def test_reopened_work_goes_through_routing_to_an_available_agent_not_its_offline_previous_one(
    eager_tasks, django_capture_on_commit_callbacks
):
    queue = QueueFactory(channels=["chat"])
    previous = _agent(idle_minutes=60)  # idle longest: the router would pick them first if they were there
    resolved = interaction_in_status(S.RESOLVED, agent=previous, queue=queue)
    agent_set_status(agent=previous, status=A.OFFLINE)
    colleague = _agent(idle_minutes=1)

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.interaction_reopen(interaction=resolved)

    resolved.refresh_from_db()
    assert (resolved.status, resolved.agent) == (S.ASSIGNED, colleague)
    reopened = InteractionEvent.objects.get(interaction=resolved, kind=InteractionEventKind.REOPENED)
    assert reopened.data["previous_agent_id"] == previous.pk


def test_reopened_work_waits_rather_than_going_to_its_offline_previous_agent(
    eager_tasks, django_capture_on_commit_callbacks
):
    queue = QueueFactory(channels=["chat"])
    previous = _agent()
    resolved = interaction_in_status(S.RESOLVED, agent=previous, queue=queue)
    agent_set_status(agent=previous, status=A.OFFLINE)

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.interaction_reopen(interaction=resolved)
    route_pending()

    resolved.refresh_from_db()
    assert (resolved.status, resolved.agent) == (S.QUEUED, None)
    assert not Assignment.objects.filter(interaction=resolved, ended_at__isnull=True).exists()


# (c) ---------------------------------------------------------------------------------------------------

ROUNDS = 15


@pytest.mark.django_db(transaction=True)
def test_manual_assignment_racing_the_router_leaves_one_consistent_owner():
    queue = QueueFactory(channels=["chat"])
    routed_to = _agent(capacity={"chat": ROUNDS + 1})
    picked = _agent(status=A.OFFLINE, capacity={"chat": ROUNDS + 1})  # only a manual assignment reaches them
    outcomes = Counter()

    for _ in range(ROUNDS):
        interaction = _queued(queue=queue, waited_minutes=1)
        barrier = threading.Barrier(2)
        errors, won = [], []

        def manual(interaction=interaction, barrier=barrier, errors=errors, won=won):
            try:
                barrier.wait()
                lifecycle.interaction_assign(interaction=Interaction(pk=interaction.pk), agent=picked)
                won.append("manual")
            except IllegalTransition:
                pass
            except Exception as exc:  # noqa: BLE001  (reported by the assertion below)
                errors.append(exc)
            finally:
                connection.close()

        def automatic(barrier=barrier, errors=errors, won=won):
            try:
                barrier.wait()
                if route_next(queue=queue) is not None:
                    won.append("router")
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=manual), threading.Thread(target=automatic)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert errors == []
        assert len(won) == 1, won  # exactly one of them succeeded
        outcomes[won[0]] += 1
        interaction.refresh_from_db()
        open_rows = list(Assignment.objects.filter(interaction=interaction, ended_at__isnull=True))
        assert interaction.status in OWNED_STATUSES
        assert len(open_rows) == 1 and open_rows[0].agent_id == interaction.agent_id
        assert interaction.agent == (picked if won[0] == "manual" else routed_to)
        assigned = InteractionEvent.objects.filter(interaction=interaction, kind=InteractionEventKind.ASSIGNED)
        assert list(assigned.values_list("agent_id", flat=True)) == [interaction.agent_id]

    assert sum(outcomes.values()) == ROUNDS


# (d) ---------------------------------------------------------------------------------------------------


def test_sixty_chats_spread_evenly_over_six_equal_agents_with_room_for_ten():
    queue = QueueFactory(channels=["chat"])
    agents = [_agent(capacity={"chat": 10}, idle_minutes=10 + i) for i in range(6)]
    interactions = [_queued(queue=queue, waited_minutes=120 - i) for i in range(60)]

    assert route_pending(limit=100) == 60

    load = Counter(
        Interaction.objects.filter(pk__in=[i.pk for i in interactions], status=S.ASSIGNED).values_list(
            "agent_id", flat=True
        )
    )
    assert load == {agent.pk: 10 for agent in agents}


def test_with_room_to_spare_work_rotates_over_agents_by_idle_time():
    queue = QueueFactory(channels=["chat"])
    # created in shuffled idle order: the rotation must follow idle time, not creation order
    agents = [_agent(capacity={"chat": 100}, idle_minutes=minutes) for minutes in (30, 50, 10, 40, 20, 60)]
    by_idle = sorted(agents, key=lambda agent: agent.status_changed_at)
    interactions = [_queued(queue=queue, waited_minutes=60 - i) for i in range(18)]

    assert route_pending(limit=100) == 18

    owners = [Interaction.objects.get(pk=i.pk).agent for i in interactions]
    # oldest work to the longest idle; each agent once per round, three rounds in the same order
    assert owners == by_idle * 3
