"""Offer timeouts: work an agent does not accept in time goes back to its queue, the agent to not_ready."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from agents.choices import AgentStatus
from agents.models import Agent, AgentStatusLog
from agents.services import agent_set_status
from crm.choices import AssignmentEndReason, InteractionEventKind, InteractionStatus
from crm.interactions import services as lifecycle
from crm.interactions.models import Assignment, Interaction, InteractionEvent
from crm.routing.services.offers import offer_timeouts_expire
from crm.routing.services.router import route_next, route_pending
from tests.agents.factories import AgentFactory
from tests.crm.factories import InteractionFactory, QueueFactory

pytestmark = pytest.mark.django_db

S = InteractionStatus
A = AgentStatus
LATER = timedelta(seconds=31)  # past the default 30 s accept timeout


def _agent(*, status=A.AVAILABLE, idle_minutes=5, capacity=None):
    return AgentFactory(
        status=status,
        status_changed_at=timezone.now() - timedelta(minutes=idle_minutes),
        capacity=capacity or {"chat": 3, "email": 5},
    )


def _queued(*, queue, waited_minutes=0):
    at = timezone.now() - timedelta(minutes=waited_minutes)
    return InteractionFactory(queue=queue, created_at=at, queued_at=at)


def _offered(*, queue, agent, waited_minutes=10):
    return lifecycle.interaction_assign(interaction=_queued(queue=queue, waited_minutes=waited_minutes), agent=agent)


def test_offer_times_out_goes_back_first_in_line_and_agent_goes_not_ready():
    queue = QueueFactory(accept_timeout_seconds=30)
    sleepy = _agent()
    offered = _offered(queue=queue, agent=sleepy, waited_minutes=10)
    queued_at = offered.queued_at
    newer = _queued(queue=queue, waited_minutes=2)

    assert offer_timeouts_expire(now=timezone.now() + LATER) == 1

    offered.refresh_from_db()
    assert (offered.status, offered.agent, offered.queued_at) == (S.QUEUED, None, queued_at)
    event = InteractionEvent.objects.get(interaction=offered, kind=InteractionEventKind.OFFER_TIMEOUT)
    assert (event.from_status, event.to_status, event.agent_id) == (S.ASSIGNED, S.QUEUED, sleepy.pk)
    assert event.data["accept_timeout_seconds"] == 30
    assert Agent.objects.get(pk=sleepy.pk).status == A.NOT_READY
    log = AgentStatusLog.objects.filter(agent=sleepy).latest("id")
    assert (log.previous_status, log.status) == (A.AVAILABLE, A.NOT_READY)
    assert f"interaction {offered.pk}" in log.reason

    # its place by age holds: the next agent gets it before the newer work, and the sleepy agent gets nothing
    awake = _agent()
    assert route_next().pk == offered.pk
    offered.refresh_from_db()
    newer.refresh_from_db()
    assert offered.agent == awake and newer.status == S.QUEUED


def test_offer_within_its_timeout_is_left_alone():
    queue = QueueFactory(accept_timeout_seconds=60)
    agent = _agent()
    offered = _offered(queue=queue, agent=agent)

    assert offer_timeouts_expire(now=timezone.now() + timedelta(seconds=45)) == 0

    offered.refresh_from_db()
    assert (offered.status, offered.agent) == (S.ASSIGNED, agent)
    assert Agent.objects.get(pk=agent.pk).status == A.AVAILABLE


def test_accepted_work_and_queues_without_timeout_are_left_alone():
    agent = _agent()
    accepted = lifecycle.interaction_accept(interaction=_offered(queue=QueueFactory(), agent=agent))
    waits_forever = _offered(queue=QueueFactory(accept_timeout_seconds=None), agent=agent)

    assert offer_timeouts_expire(now=timezone.now() + timedelta(hours=5)) == 0

    assert Interaction.objects.get(pk=accepted.pk).status == S.ACTIVE
    assert Interaction.objects.get(pk=waits_forever.pk).status == S.ASSIGNED
    assert not InteractionEvent.objects.filter(kind=InteractionEventKind.OFFER_TIMEOUT).exists()


def test_agent_on_break_keeps_their_status_when_an_offer_expires():
    queue = QueueFactory()
    agent = _agent()
    offered = _offered(queue=queue, agent=agent)
    agent_set_status(agent=agent, status=A.ON_BREAK)

    assert offer_timeouts_expire(now=timezone.now() + LATER) == 1

    assert Interaction.objects.get(pk=offered.pk).status == S.QUEUED
    assert Agent.objects.get(pk=agent.pk).status == A.ON_BREAK


def test_several_expired_offers_of_one_agent_log_not_ready_once():
    queue = QueueFactory()
    agent = _agent()
    offers = [_offered(queue=queue, agent=agent, waited_minutes=5 - i) for i in range(3)]

    assert offer_timeouts_expire(now=timezone.now() + LATER) == 3

    assert Interaction.objects.filter(pk__in=[o.pk for o in offers], status=S.QUEUED).count() == 3
    assert AgentStatusLog.objects.filter(agent=agent, status=A.NOT_READY).count() == 1


def test_not_ready_agent_gets_no_new_work_until_available_again():
    queue = QueueFactory()
    agent = _agent()
    _offered(queue=queue, agent=agent)
    offer_timeouts_expire(now=timezone.now() + LATER)
    _queued(queue=queue)

    assert route_pending() == 0
    assert not Interaction.objects.filter(agent=agent, status=S.ASSIGNED).exists()

    agent_set_status(agent=agent, status=A.AVAILABLE)
    assert route_pending() == 2


def test_expired_offer_ends_its_assignment_as_timed_out():
    queue = QueueFactory()
    agent = _agent()
    offered = _offered(queue=queue, agent=agent)

    offer_timeouts_expire(now=timezone.now() + LATER)

    assignment = Assignment.objects.get(interaction=offered)
    assert assignment.agent == agent and assignment.accepted_at is None
    assert assignment.end_reason == AssignmentEndReason.TIMED_OUT and assignment.ended_at is not None


def test_accepting_after_the_offer_expired_is_refused():
    from config.errors import IllegalTransition

    agent = _agent()
    offered = _offered(queue=QueueFactory(), agent=agent)
    offer_timeouts_expire(now=timezone.now() + LATER)

    with pytest.raises(IllegalTransition):
        lifecycle.interaction_accept(interaction=offered, agent=agent)


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_expire_each_offer_exactly_once():
    queue = QueueFactory()
    agents = [_agent(capacity={"chat": 5}) for _ in range(4)]
    offers = [_offered(queue=queue, agent=agents[i % 4], waited_minutes=30 - i) for i in range(20)]
    later = timezone.now() + LATER
    threads = 4
    barrier = threading.Barrier(threads)
    results, errors = [], []

    def sweep():
        try:
            barrier.wait()
            results.append(offer_timeouts_expire(now=later))
        except Exception as exc:  # noqa: BLE001  (reported by the assertion below)
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=sweep) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    assert sum(results) == 20
    events = Counter(
        InteractionEvent.objects.filter(kind=InteractionEventKind.OFFER_TIMEOUT).values_list(
            "interaction_id", flat=True
        )
    )
    assert events == {offer.pk: 1 for offer in offers}
    assert Interaction.objects.filter(pk__in=[o.pk for o in offers], status=S.QUEUED).count() == 20
    assert Assignment.objects.filter(end_reason=AssignmentEndReason.TIMED_OUT).count() == 20
    assert not Assignment.objects.filter(ended_at__isnull=True).exists()
    assert set(Agent.objects.values_list("status", flat=True)) == {A.NOT_READY}
    assert AgentStatusLog.objects.filter(status=A.NOT_READY).count() == 4


def test_expired_offer_is_offered_to_another_agent_as_the_sweep_commits(
    eager_tasks, django_capture_on_commit_callbacks
):
    queue = QueueFactory()
    sleepy = _agent(idle_minutes=60)
    offered = _offered(queue=queue, agent=sleepy)
    colleague = _agent(idle_minutes=1)

    with django_capture_on_commit_callbacks(execute=True):
        offer_timeouts_expire(now=timezone.now() + LATER)

    offered.refresh_from_db()
    assert (offered.status, offered.agent) == (S.ASSIGNED, colleague)
    assert [row.end_reason for row in Assignment.objects.filter(interaction=offered).order_by("id")] == [
        AssignmentEndReason.TIMED_OUT,
        "",
    ]
