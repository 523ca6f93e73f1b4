import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from agents.choices import AgentStatus
from crm.choices import InteractionEventKind, InteractionStatus
from crm.interactions import services as lifecycle
from crm.interactions.models import Interaction, InteractionEvent
from crm.routing.services.overflow import queue_overflow_due
from crm.routing.services.router import route_next
from crm.routing.tasks import queue_overflow_task
from tests.agents.factories import AgentFactory, SkillFactory
from tests.crm.factories import QueueFactory, QueueSkillFactory, interaction_in_status

pytestmark = pytest.mark.django_db

S = InteractionStatus
Kind = InteractionEventKind


def _chain(*after_seconds, **target_kwargs):
    """Queues A → B (→ C …): each overflows into the next after its ``after_seconds``; the last has no overflow."""
    queues = [QueueFactory(channels=["chat"], **target_kwargs) for _ in range(len(after_seconds) + 1)]
    for queue, overflow, seconds in zip(queues, queues[1:], after_seconds, strict=False):
        queue.overflow_queue, queue.overflow_after_seconds = overflow, seconds
        queue.save(update_fields=["overflow_queue", "overflow_after_seconds"])
    return queues


def _waiting(queue, *, seconds_ago=0):
    """Queued through the service, then aged: both ``queued_at`` and the event that put it in the queue."""
    interaction = interaction_in_status(S.QUEUED, queue=queue)
    at = timezone.now() - timedelta(seconds=seconds_ago)
    Interaction.objects.filter(pk=interaction.pk).update(created_at=at, queued_at=at)
    InteractionEvent.objects.filter(interaction=interaction).update(at=at)
    interaction.refresh_from_db()
    return interaction


def _queue_of(interaction):
    return Interaction.objects.get(pk=interaction.pk).queue_id


def test_work_moves_to_the_overflow_queue_once_its_time_has_passed_and_not_before():
    a, b = _chain(60)
    late, early = _waiting(a, seconds_ago=61), _waiting(a, seconds_ago=50)

    assert queue_overflow_due() == 1

    assert (_queue_of(late), _queue_of(early)) == (b.pk, a.pk)
    stored = Interaction.objects.get(pk=late.pk)
    assert stored.status == S.QUEUED
    assert stored.queued_at == late.queued_at  # its age is kept
    event = InteractionEvent.objects.get(interaction=late, kind=Kind.OVERFLOWED)
    assert (event.from_status, event.to_status) == (S.QUEUED, S.QUEUED)
    assert event.data == {"from_queue": a.pk, "to_queue": b.pk}

    # the early one moves when its own time has come
    assert queue_overflow_due(now=timezone.now() + timedelta(seconds=11)) == 1
    assert _queue_of(early) == b.pk


def test_a_second_sweep_moves_nothing_again():
    a, b = _chain(60)
    interaction = _waiting(a, seconds_ago=120)

    assert queue_overflow_due() == 1
    assert queue_overflow_due() == 0

    assert _queue_of(interaction) == b.pk
    assert InteractionEvent.objects.filter(interaction=interaction, kind=Kind.OVERFLOWED).count() == 1


def test_a_chain_moves_one_hop_per_sweep_timed_from_entering_each_queue():
    a, b, c = _chain(60, 30)
    interaction = _waiting(a, seconds_ago=1000)  # long past both times, counted from when it was queued
    now = timezone.now()

    assert queue_overflow_due(now=now) == 1
    assert _queue_of(interaction) == b.pk
    # in B since ``now``: B's 30 seconds count from there, not from when it was first queued
    assert queue_overflow_due(now=now + timedelta(seconds=29)) == 0
    assert queue_overflow_due(now=now + timedelta(seconds=30)) == 1
    assert _queue_of(interaction) == c.pk
    assert queue_overflow_due(now=now + timedelta(hours=1)) == 0  # C has no overflow
    hops = InteractionEvent.objects.filter(interaction=interaction, kind=Kind.OVERFLOWED).order_by("id")
    assert [(e.data["from_queue"], e.data["to_queue"]) for e in hops] == [(a.pk, b.pk), (b.pk, c.pk)]


def test_work_transferred_into_a_queue_waits_its_full_time_there():
    a, b = _chain(60)
    interaction = interaction_in_status(S.ACTIVE, queue=QueueFactory(channels=["chat"]))
    Interaction.objects.filter(pk=interaction.pk).update(created_at=timezone.now() - timedelta(hours=1))

    lifecycle.interaction_transfer(interaction=interaction, to_queue=a)

    assert queue_overflow_due(now=timezone.now() + timedelta(seconds=30)) == 0
    assert queue_overflow_due(now=timezone.now() + timedelta(seconds=61)) == 1
    assert _queue_of(interaction) == b.pk


def test_overflowed_work_keeps_its_place_by_age_in_the_new_queue():
    a, b = _chain(60)
    already_in_b = _waiting(b, seconds_ago=100)
    oldest = _waiting(a, seconds_ago=300)
    older = _waiting(a, seconds_ago=200)

    assert queue_overflow_due() == 2

    agent = AgentFactory(status=AgentStatus.AVAILABLE, capacity={"chat": 5})
    served = [route_next(queue=b) for _ in range(3)]
    assert [i.pk for i in served] == [oldest.pk, older.pk, already_in_b.pk]
    assert {i.agent_id for i in served} == {agent.pk}


@pytest.mark.parametrize("target_kwargs", [{"is_active": False}, {"channels": ["email"]}])
def test_work_never_overflows_into_a_queue_that_cannot_take_it(target_kwargs):
    a = QueueFactory(channels=["chat"])
    target = QueueFactory(**target_kwargs)
    a.overflow_queue, a.overflow_after_seconds = target, 10
    a.save(update_fields=["overflow_queue", "overflow_after_seconds"])
    interaction = _waiting(a, seconds_ago=60)

    assert queue_overflow_due() == 0
    assert _queue_of(interaction) == a.pk


def test_only_waiting_work_overflows():
    a, b = _chain(10)
    owned = interaction_in_status(S.ASSIGNED, queue=a)
    Interaction.objects.filter(pk=owned.pk).update(queued_at=timezone.now() - timedelta(minutes=5))
    no_overflow = _waiting(b, seconds_ago=3600)

    assert queue_overflow_due() == 0
    assert (_queue_of(owned), _queue_of(no_overflow)) == (a.pk, b.pk)


def test_the_sweep_moves_at_most_its_limit_oldest_first():
    a, b = _chain(10)
    interactions = [_waiting(a, seconds_ago=100 - i) for i in range(5)]

    assert queue_overflow_due(limit=2) == 2

    assert [_queue_of(i) for i in interactions] == [b.pk, b.pk, a.pk, a.pk, a.pk]


def test_the_task_moves_overflowed_work_and_has_it_routed(eager_tasks, django_capture_on_commit_callbacks):
    a, b = _chain(60)
    interaction = _waiting(a, seconds_ago=90)
    agent = AgentFactory(status=AgentStatus.AVAILABLE, capacity={"chat": 1})
    # nobody has A's skill: the work waits there until it overflows to B, which the agent serves
    QueueSkillFactory(queue=a, skill=SkillFactory(), min_level=5)

    with django_capture_on_commit_callbacks(execute=True):
        assert queue_overflow_task.delay().get() == 1

    stored = Interaction.objects.get(pk=interaction.pk)
    assert (stored.queue_id, stored.status, stored.agent_id) == (b.pk, S.ASSIGNED, agent.pk)


# --- concurrency --------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_move_each_interaction_exactly_once():
    a, b = _chain(60)
    interactions = [_waiting(a, seconds_ago=120 + i) for i in range(60)]
    barrier = threading.Barrier(4)
    errors, moved = [], []

    def sweep():
        try:
            barrier.wait()
            # small batches, so the sweeps run side by side over the same rows
            while (count := queue_overflow_due(limit=5)) > 0:
                moved.append(count)
        except Exception as exc:  # noqa: BLE001  (reported by the assertion below)
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=sweep) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    ids = {i.pk for i in interactions}
    assert sum(moved) == len(ids)
    events = Counter(InteractionEvent.objects.filter(kind=Kind.OVERFLOWED).values_list("interaction_id", flat=True))
    assert set(events) == ids
    assert set(events.values()) == {1}
    assert set(Interaction.objects.filter(pk__in=ids).values_list("queue_id", flat=True)) == {b.pk}
