import random
import threading
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from agents.choices import AgentStatus
from agents.models import Agent, AgentSkill
from agents.services import agent_set_status
from config.celery import app as celery_app
from crm.choices import OWNED_STATUSES, InteractionEventKind, InteractionStatus, Priority
from crm.interactions import services as lifecycle
from crm.interactions.models import Interaction, InteractionEvent
from crm.routing.models import QueueSkill
from crm.routing.services import router as routing
from crm.routing.services.planner import wait_for_agents
from crm.routing.services.router import route_next, route_pending
from tests.agents.factories import AgentFactory, AgentSkillFactory, SkillFactory
from tests.crm.factories import InteractionFactory, QueueFactory, QueueSkillFactory, interaction_in_status
from tests.crm.test_worker import wait_for

pytestmark = pytest.mark.django_db

S = InteractionStatus
A = AgentStatus


def _agent(*, status=A.AVAILABLE, idle_minutes=5, capacity=None, skills=(), **kwargs):
    """An agent in ``status`` since ``idle_minutes`` ago, with ``skills`` as (skill, level) pairs."""
    agent = AgentFactory(
        status=status,
        status_changed_at=timezone.now() - timedelta(minutes=idle_minutes),
        capacity=capacity if capacity is not None else {"voice": 1, "chat": 3, "email": 5},
        **kwargs,
    )
    for skill, level in skills:
        AgentSkillFactory(agent=agent, skill=skill, level=level)
    return agent


def _queued(*, queue, channel="chat", priority=Priority.NORMAL, waited_minutes=0):
    queued_at = timezone.now() - timedelta(minutes=waited_minutes)
    return InteractionFactory(
        queue=queue, channel=channel, priority=priority, created_at=queued_at, queued_at=queued_at
    )


def _owner(interaction):
    interaction.refresh_from_db()
    return interaction.agent if interaction.status == S.ASSIGNED else None


# --- who may take work --------------------------------------------------------------------------------


def test_route_skips_agents_on_break_offline_or_inactive():
    queue = QueueFactory()
    interaction = _queued(queue=queue)
    _agent(status=A.ON_BREAK, idle_minutes=60)
    _agent(status=A.OFFLINE, idle_minutes=60)
    _agent(status=A.AVAILABLE, idle_minutes=60, is_active=False)
    _agent(status=A.BUSY, idle_minutes=60)

    assert route_next() is None
    assert route_pending() == 0
    interaction.refresh_from_db()
    assert (interaction.status, interaction.agent) == (S.QUEUED, None)

    available = _agent()
    assert route_next() == interaction
    assert _owner(interaction) == available


def test_route_requires_every_queue_skill_at_its_minimum_level():
    billing, spanish = SkillFactory(), SkillFactory()
    queue = QueueFactory()
    QueueSkillFactory(queue=queue, skill=billing, min_level=3)
    QueueSkillFactory(queue=queue, skill=spanish, min_level=1)
    interaction = _queued(queue=queue)
    _agent(skills=[(billing, 2), (spanish, 5)], idle_minutes=60)  # billing too low
    _agent(skills=[(billing, 5)], idle_minutes=60)  # no Spanish
    _agent(idle_minutes=60)  # no skills at all

    assert route_next() is None

    qualified = _agent(skills=[(billing, 3), (spanish, 1)])
    route_next()
    assert _owner(interaction) == qualified


def test_route_never_exceeds_the_agents_capacity_on_the_channel():
    queue = QueueFactory()
    chats = [_queued(queue=queue, waited_minutes=3 - i) for i in range(3)]
    email = _queued(queue=queue, channel="email")
    agent = _agent(capacity={"chat": 2})  # no email capacity at all

    assert route_pending() == 2

    assert [_owner(chat) for chat in chats] == [agent, agent, None]
    assert _owner(email) is None
    assert Interaction.objects.filter(agent=agent, status__in=OWNED_STATUSES).count() == 2


def test_owned_voice_call_blocks_all_other_work():
    queue = QueueFactory()
    agent = _agent(capacity={"voice": 1, "chat": 3})
    interaction_in_status(S.ACTIVE, agent=agent, channel="voice", queue=queue)
    chat = _queued(queue=queue)

    assert route_pending() == 0
    assert _owner(chat) is None


def test_work_already_owned_counts_against_capacity():
    queue = QueueFactory()
    agent = _agent(capacity={"chat": 2})
    interaction_in_status(S.ON_HOLD, agent=agent, channel="chat", queue=queue)
    first, second = _queued(queue=queue, waited_minutes=2), _queued(queue=queue, waited_minutes=1)

    assert route_pending() == 1
    assert (_owner(first), _owner(second)) == (agent, None)


# --- which agent --------------------------------------------------------------------------------------


def test_route_prefers_higher_skill_over_longer_idle():
    skill = SkillFactory()
    queue = QueueFactory()
    QueueSkillFactory(queue=queue, skill=skill, min_level=2)
    interaction = _queued(queue=queue)
    _agent(skills=[(skill, 3)], idle_minutes=120)
    expert = _agent(skills=[(skill, 5)], idle_minutes=1)

    route_next()

    assert _owner(interaction) == expert


def test_route_prefers_the_agent_idle_longest_among_equals():
    skill = SkillFactory()
    queue = QueueFactory()
    QueueSkillFactory(queue=queue, skill=skill)
    interaction = _queued(queue=queue)
    _agent(skills=[(skill, 4)], idle_minutes=5)
    longest_idle = _agent(skills=[(skill, 4)], idle_minutes=50)
    _agent(skills=[(skill, 4)], idle_minutes=20)

    route_next()

    assert _owner(interaction) == longest_idle


def test_load_spreads_evenly_over_equally_qualified_agents():
    queue = QueueFactory()
    agents = [_agent(capacity={"chat": 10}, idle_minutes=10 + i) for i in range(3)]
    interactions = [_queued(queue=queue, waited_minutes=30 - i) for i in range(9)]

    assert route_pending() == 9

    owners = [_owner(interaction) for interaction in interactions]
    # round robin: every agent takes one before anyone takes a second
    assert set(owners[:3]) == set(agents)
    assert Counter(owners) == {agent: 3 for agent in agents}


# --- which work first ---------------------------------------------------------------------------------


def test_route_serves_higher_priority_queue_then_higher_priority_then_oldest():
    vip, general = QueueFactory(priority=9), QueueFactory(priority=3)
    general_urgent = _queued(queue=general, priority=Priority.URGENT, waited_minutes=2)
    vip_normal_new = _queued(queue=vip, priority=Priority.NORMAL, waited_minutes=1)
    vip_normal_old = _queued(queue=vip, priority=Priority.NORMAL, waited_minutes=2)
    vip_high = _queued(queue=vip, priority=Priority.HIGH, waited_minutes=0)
    _agent(capacity={"chat": 10})

    order = [route_next() for _ in range(4)]

    assert order == [vip_high, vip_normal_old, vip_normal_new, general_urgent]
    assert route_next() is None


@override_settings(SWITCHBOARD_ROUTING_AGEING_MINUTES=10)
def test_ageing_lets_old_low_priority_work_overtake_fresh_high_priority():
    queue = QueueFactory()
    fresh_high = _queued(queue=queue, priority=Priority.HIGH)
    recent_low = _queued(queue=queue, priority=Priority.LOW, waited_minutes=5)  # 1 + 0.5 < 3
    old_low = _queued(queue=queue, priority=Priority.LOW, waited_minutes=40)  # 1 + 4 > 3
    _agent(capacity={"chat": 10})

    assert [route_next() for _ in range(3)] == [old_low, fresh_high, recent_low]


def test_route_next_limited_to_one_queue_leaves_other_queues_alone():
    busy, other = QueueFactory(priority=10), QueueFactory(priority=1)
    elsewhere = _queued(queue=busy, waited_minutes=10)
    mine = _queued(queue=other)
    _agent()

    assert route_next(queue=other) == mine
    assert _owner(elsewhere) is None


# --- triggers -----------------------------------------------------------------------------------------


def test_agent_becoming_available_takes_waiting_work_at_once(eager_tasks, django_capture_on_commit_callbacks):
    queue = QueueFactory()
    interaction = _queued(queue=queue, waited_minutes=3)
    agent = _agent(status=A.OFFLINE)

    with django_capture_on_commit_callbacks(execute=True):
        agent_set_status(agent=agent, status=A.AVAILABLE)

    assert _owner(interaction) == agent
    event = InteractionEvent.objects.get(interaction=interaction, kind=InteractionEventKind.ASSIGNED)
    assert event.agent_id == agent.pk


def test_new_interaction_is_routed_when_it_is_queued(eager_tasks, django_capture_on_commit_callbacks):
    queue = QueueFactory(channels=["chat"])
    agent = _agent()

    with django_capture_on_commit_callbacks(execute=True):
        interaction = interaction_in_status(S.QUEUED, queue=queue)

    assert _owner(interaction) == agent


def test_finished_work_frees_the_slot_for_waiting_work(eager_tasks, django_capture_on_commit_callbacks):
    queue = QueueFactory(channels=["chat"])
    agent = _agent(capacity={"chat": 1})
    current = interaction_in_status(S.ACTIVE, agent=agent, queue=queue)
    waiting = _queued(queue=queue)

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.interaction_resolve(interaction=current, disposition="solved")

    assert _owner(waiting) == agent


def test_reopened_interaction_is_routed_again_but_never_to_an_offline_agent(
    eager_tasks, django_capture_on_commit_callbacks
):
    queue = QueueFactory(channels=["chat"])
    previous = _agent()
    resolved = interaction_in_status(S.RESOLVED, agent=previous, queue=queue)
    agent_set_status(agent=previous, status=A.OFFLINE)

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.interaction_reopen(interaction=resolved)

    resolved.refresh_from_db()
    assert (resolved.status, resolved.agent) == (S.QUEUED, None)

    stand_in = _agent(status=A.OFFLINE)
    with django_capture_on_commit_callbacks(execute=True):
        agent_set_status(agent=stand_in, status=A.AVAILABLE)

    assert _owner(resolved) == stand_in


@pytest.fixture
def broker_down():
    """The broker refuses connections (the pools are dropped so the next publish connects afresh)."""
    previous = celery_app.conf.broker_url
    celery_app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    celery_app._pool = celery_app.amqp._producer_pool = None
    yield
    celery_app.conf.broker_url = previous
    celery_app._pool = celery_app.amqp._producer_pool = None


def test_broker_outage_does_not_fail_the_change_that_triggered_routing(
    broker_down, caplog, django_capture_on_commit_callbacks
):
    queue = QueueFactory(channels=["chat"])

    with django_capture_on_commit_callbacks(execute=True):
        interaction = interaction_in_status(S.QUEUED, queue=queue)

    interaction.refresh_from_db()
    assert interaction.status == S.QUEUED
    # the requester thread asks after the commit, and logs what the broker refused
    wait_for(lambda: "could not request a routing run" in caplog.text, timeout=10, what="the refusal to be logged")


# --- concurrency --------------------------------------------------------------------------------------


def _run_concurrently(target, *, threads):
    barrier = threading.Barrier(threads)
    errors, results = [], []

    def work():
        try:
            barrier.wait()
            results.append(target())
        except Exception as exc:  # noqa: BLE001  (reported by the assertion below)
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_routers_never_double_assign_or_overfill_an_agent():
    queue = QueueFactory()
    agents = [_agent(capacity={"chat": 2}, idle_minutes=i) for i in range(5)]
    interactions = [_queued(queue=queue, waited_minutes=20 - i) for i in range(20)]

    results = _run_concurrently(route_pending, threads=4)

    assigned = Interaction.objects.filter(pk__in=[i.pk for i in interactions], status=S.ASSIGNED)
    assert sum(results) == assigned.count() == 10
    # one assignment event per assigned interaction: nobody assigned anything twice
    events = Counter(
        InteractionEvent.objects.filter(kind=InteractionEventKind.ASSIGNED).values_list("interaction_id", flat=True)
    )
    assert sorted(events) == sorted(assigned.values_list("pk", flat=True))
    assert set(events.values()) == {1}
    # every agent full, nobody over
    load = Counter(assigned.values_list("agent_id", flat=True))
    assert load == {agent.pk: 2 for agent in agents}


@pytest.mark.django_db(transaction=True)
def test_many_concurrent_routers_over_mixed_skills_and_channels_keep_every_rule():
    rnd = random.Random(3)  # fixed seed: the same mix every run
    skills = [SkillFactory() for _ in range(5)]
    queues = []
    for skill in skills[:4]:
        queue = QueueFactory(priority=rnd.randint(1, 10))
        QueueSkillFactory(queue=queue, skill=skill, min_level=rnd.randint(1, 4))
        queues.append(queue)
    agents = [
        _agent(
            capacity={"voice": rnd.randint(0, 1), "chat": rnd.randint(0, 4), "email": rnd.randint(0, 5)},
            idle_minutes=rnd.randint(0, 60),
            skills=[(skill, rnd.randint(1, 5)) for skill in rnd.sample(skills, 3)],
        )
        for _ in range(30)
    ]
    for _ in range(200):
        _queued(
            queue=rnd.choice(queues),
            channel=rnd.choice(["voice", "chat", "email"]),
            priority=rnd.choice(Priority.values),
            waited_minutes=rnd.randint(0, 60),
        )

    results = _run_concurrently(lambda: route_pending(limit=1000), threads=8)

    events = Counter(
        InteractionEvent.objects.filter(kind=InteractionEventKind.ASSIGNED).values_list("interaction_id", flat=True)
    )
    assert set(events.values()) == {1}
    assert sum(results) == len(events) > 0
    levels = {
        (agent_skill.agent_id, agent_skill.skill_id): agent_skill.level
        for agent_skill in AgentSkill.objects.filter(agent__in=agents)
    }
    owned = defaultdict(list)
    for interaction in Interaction.objects.filter(status=S.ASSIGNED).order_by("assigned_at", "id"):
        owned[interaction.agent_id].append(interaction.channel)
        for queue_skill in QueueSkill.objects.filter(queue_id=interaction.queue_id):
            assert levels.get((interaction.agent_id, queue_skill.skill_id), 0) >= queue_skill.min_level
    for agent in agents:
        channels = owned[agent.pk]
        assert all(count <= agent.capacity_for(channel) for channel, count in Counter(channels).items())
        # a voice call may come on top of other work, but nothing comes after it
        assert "voice" not in channels[:-1]
    # what is still queued is waiting for a reason: no qualified agent has room for it
    assert route_pending(limit=1000) == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("release_after", [0.3, None])
def test_work_whose_only_agent_another_transaction_holds_is_routed_once_that_transaction_ends(release_after):
    """Another router holding the one agent who could take the work: this run waits for it to end, then assigns
    (``release_after``: seconds the other holds the agent; None: longer than the run waits, so it is left queued)."""
    queue = QueueFactory()
    agent = _agent(capacity={"chat": 1})
    interaction = _queued(queue=queue)
    locked, done = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                list(Agent.objects.select_for_update().filter(pk=agent.pk))
                locked.set()
                done.wait(release_after if release_after is not None else 5)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    locked.wait(5)
    try:
        routed = route_pending()
    finally:
        done.set()
        holder.join()

    if release_after is None:  # held past the wait: left for the next run, which assigns it
        assert routed == 0 and _owner(interaction) is None
        assert route_pending() == 1
    else:
        assert routed == 1
    assert _owner(interaction) == agent


def test_waiting_for_agents_inside_a_callers_transaction_leaves_its_lock_timeout_as_it_was():
    agent = _agent()

    assert wait_for_agents({agent.pk}) is True  # nobody holds the agent: no wait

    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        assert cursor.fetchone() == ("0",)


# --- batches ------------------------------------------------------------------------------------------


def _assignments():
    return list(
        InteractionEvent.objects.filter(kind=InteractionEventKind.ASSIGNED)
        .order_by("id")
        .values_list("interaction_id", "agent_id")
    )


@pytest.mark.parametrize("batch", [1, 7, 50, 100])
def test_batches_assign_the_same_work_to_the_same_agents_in_the_same_order_as_one_at_a_time(monkeypatch, batch):
    rnd = random.Random(11)  # fixed seed: the same mix every run
    skills = [SkillFactory() for _ in range(4)]
    queues = []
    for skill in skills[:3]:
        queue = QueueFactory(priority=rnd.randint(1, 3))
        QueueSkillFactory(queue=queue, skill=skill, min_level=rnd.randint(1, 3))
        queues.append(queue)
    queues.append(QueueFactory(priority=2))  # no skills required
    for _ in range(12):
        _agent(
            capacity={"voice": rnd.randint(0, 1), "chat": rnd.randint(0, 4), "email": rnd.randint(0, 4)},
            idle_minutes=rnd.randint(0, 60),
            skills=[(skill, rnd.randint(1, 5)) for skill in rnd.sample(skills, 2)],
        )
    for _ in range(80):
        interaction = _queued(
            queue=rnd.choice(queues),
            channel=rnd.choice(["voice", "chat", "email"]),
            priority=rnd.choice(Priority.values),
            waited_minutes=rnd.randint(0, 90),
        )
        if rnd.random() < 0.1:  # queued before queued_at was kept: served by its creation time
            Interaction.objects.filter(pk=interaction.pk).update(queued_at=None)

    before = transaction.savepoint_create()
    while route_next() is not None:
        pass
    one_at_a_time = _assignments()
    transaction.savepoint_rollback(before)
    assert _assignments() == []

    monkeypatch.setattr(routing, "BATCH", batch)
    assert route_pending(limit=1000) == len(one_at_a_time) > 20
    assert _assignments() == one_at_a_time


@pytest.mark.django_db(transaction=True)
def test_router_passes_over_an_agent_another_router_holds_and_leaves_work_only_they_could_take():
    skill, other = SkillFactory(), SkillFactory()
    queue, niche = QueueFactory(priority=5), QueueFactory(priority=1)
    QueueSkillFactory(queue=queue, skill=skill)
    QueueSkillFactory(queue=niche, skill=other)
    expert = _agent(skills=[(skill, 5), (other, 5)], capacity={"chat": 5})
    second = _agent(skills=[(skill, 3)], capacity={"chat": 5})
    interaction = _queued(queue=queue, waited_minutes=2)
    only_for_expert = _queued(queue=niche, waited_minutes=5)
    locked, release = threading.Event(), threading.Event()

    def hold_expert():
        try:
            with transaction.atomic():
                Agent.objects.select_for_update().get(pk=expert.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_expert)
    holder.start()
    try:
        assert locked.wait(timeout=30)
        assert route_pending() == 1
    finally:
        release.set()
        holder.join()

    assert _owner(interaction) == second
    assert _owner(only_for_expert) is None
    # once the other router let go, the work waiting for the expert goes to them
    assert route_pending() == 1
    assert _owner(only_for_expert) == expert
