"""Each agent's kept routing state (load per channel, latest assignment) always equals a recount of their work.

Random sequences of every move that changes what an agent owns — through the services, the router, the ORM and raw
SQL — one after another and from several threads at once (real connections to PostgreSQL), each compared with the
recount of ``crm.routing.services.loads``; the repair command finds and fixes drift made behind the triggers' back.
"""

import random
import threading
from collections import Counter
from datetime import timedelta
from functools import partial

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from agents.choices import AgentStatus
from agents.models import Agent, AgentRouting
from config.errors import DomainError
from crm.choices import OWNED_STATUSES, InteractionStatus
from crm.interactions import services as lifecycle
from crm.interactions.models import Interaction
from crm.routing.services.loads import agent_routing_drift, agent_routing_repair
from crm.routing.services.router import route_next, route_pending
from tests.agents.factories import AgentFactory
from tests.crm.factories import InteractionFactory, QueueFactory
from tests.support.threads import run_in_threads

S = InteractionStatus
A = AgentStatus
CHANNELS = ("chat", "email")


def _agents(n: int, *, capacity: int = 3) -> list[Agent]:
    return [
        AgentFactory(
            status=A.AVAILABLE,
            status_changed_at=timezone.now() - timedelta(minutes=10 + i),
            capacity={"chat": capacity, "email": capacity},
        )
        for i in range(n)
    ]


def _work(queue, n: int, rng: random.Random) -> list[Interaction]:
    at = timezone.now() - timedelta(minutes=30)
    return [
        InteractionFactory(
            queue=queue, channel=rng.choice(CHANNELS), created_at=at, queued_at=at + timedelta(seconds=i)
        )
        for i in range(n)
    ]


def _raw_take(interaction: Interaction, agent: Agent) -> None:
    """A write behind the services' back: the work straight to an agent, active (the triggers still see it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE crm_interaction SET status = %s, agent_id = %s, assigned_at = now() WHERE id = %s",
            [S.ACTIVE, agent.pk, interaction.pk],
        )


def _move(rng: random.Random, *, work: list[Interaction], agents: list[Agent], queues: list, raw: bool) -> None:
    """One random move of one random interaction (moves its status does not allow are refused and ignored)."""
    interaction = Interaction(pk=rng.choice(work).pk)
    agent, queue = rng.choice(agents), rng.choice(queues)
    moves = [
        lambda: route_next(),
        lambda: route_pending(limit=rng.randint(1, 5)),
        lambda: lifecycle.interaction_assign(interaction=interaction, agent=agent),
        lambda: lifecycle.interaction_accept(interaction=interaction),
        lambda: lifecycle.interaction_hold(interaction=interaction),
        lambda: lifecycle.interaction_resume(interaction=interaction),
        lambda: lifecycle.interaction_wrap_up(interaction=interaction),
        lambda: lifecycle.interaction_resolve(interaction=interaction),
        lambda: lifecycle.interaction_close(interaction=interaction),
        lambda: lifecycle.interaction_abandon(interaction=interaction),
        lambda: lifecycle.interaction_reopen(interaction=interaction),
        lambda: lifecycle.interaction_offer_timeout(interaction=interaction),
        lambda: lifecycle.interaction_offer_withdraw(interaction=interaction),
        lambda: lifecycle.interaction_enqueue(interaction=interaction, queue=queue),
        lambda: lifecycle.interaction_transfer(interaction=interaction, to_agent=agent),
        lambda: lifecycle.interaction_transfer(interaction=interaction, to_queue=queue),
    ]
    if raw:
        moves += [
            lambda: _raw_take(interaction, agent),
            lambda: Interaction.objects.filter(pk=interaction.pk).update(channel=rng.choice(CHANNELS)),
        ]
    try:
        rng.choice(moves)()
    except (DomainError, ValidationError, Interaction.DoesNotExist):
        pass


def _over_capacity() -> list[tuple[int, str, int]]:
    owned = Counter(
        Interaction.objects.filter(status__in=OWNED_STATUSES, agent__isnull=False).values_list("agent_id", "channel")
    )
    capacity = dict(Agent.objects.values_list("pk", "capacity"))
    return [(pk, channel, n) for (pk, channel), n in owned.items() if n > int(capacity[pk].get(channel, 0))]


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kept_state_equals_a_recount_after_every_move_of_a_random_sequence(seed):
    rng = random.Random(seed)
    queues = [QueueFactory(channels=list(CHANNELS)) for _ in range(2)]
    agents = _agents(4, capacity=2)
    work = _work(queues[0], 12, rng) + _work(queues[1], 6, rng)

    for step in range(150):
        _move(rng, work=work, agents=agents, queues=queues, raw=True)
        if step % 40 == 39:  # work leaves the table too (an erasure, a test clean-up)
            doomed = work.pop(rng.randrange(len(work)))
            Interaction.objects.filter(pk=doomed.pk).delete()
        assert agent_routing_drift() == [], f"seed {seed}, step {step}"

    # the sequence did move work around: several agents owned something at some point
    assert AgentRouting.objects.exclude(last_assigned_at=None).count() >= 2


@pytest.mark.django_db(transaction=True)
def test_kept_state_stays_exact_and_nobody_is_filled_over_capacity_with_moves_from_many_threads_at_once():
    rng = random.Random(7)
    queues = [QueueFactory(channels=list(CHANNELS)) for _ in range(2)]
    agents = _agents(5, capacity=2)
    work = _work(queues[0], 40, rng) + _work(queues[1], 20, rng)

    def walker(seed: int) -> None:
        mine = random.Random(seed)
        for _ in range(60):
            # no direct assignment here: it is the one move that may fill an agent over capacity on purpose
            _move(mine, work=work, agents=agents, queues=queues, raw=False)

    assert run_in_threads(*(partial(walker, seed) for seed in range(4))) == []
    assert agent_routing_drift() == []
    assert Interaction.objects.filter(status__in=OWNED_STATUSES).exists()  # the threads did give work out


@pytest.mark.django_db(transaction=True)
def test_routers_in_many_threads_fill_agents_exactly_to_capacity_and_the_state_says_so():
    rng = random.Random(11)
    queue = QueueFactory(channels=list(CHANNELS))
    agents = _agents(6, capacity=3)
    _work(queue, 60, rng)

    def router() -> None:
        while route_next() is not None:
            pass

    assert run_in_threads(*[router] * 4) == []
    assert _over_capacity() == []
    per_channel = Counter(Interaction.objects.values_list("channel", flat=True))
    # every slot of a channel with enough work is filled (6 agents x 3 each), none twice, none over capacity
    assert Interaction.objects.filter(status=S.ASSIGNED).count() == sum(min(n, 18) for n in per_channel.values())
    assert agent_routing_drift() == []
    full = {channel: 3 for channel, n in per_channel.items() if n >= 18}
    assert all(r.load.items() >= full.items() for r in AgentRouting.objects.filter(agent__in=agents))


@pytest.mark.django_db
def test_an_offer_sent_back_gives_the_agent_back_their_previous_latest_assignment():
    queue = QueueFactory(channels=["chat"])
    (agent,) = _agents(1)
    first, second = _work(queue, 2, random.Random(1))
    lifecycle.interaction_assign(interaction=first, agent=agent)
    earlier = Interaction.objects.get(pk=first.pk).assigned_at
    lifecycle.interaction_assign(interaction=second, agent=agent)
    assert AgentRouting.objects.get(agent=agent).load == {"chat": 2}

    lifecycle.interaction_offer_timeout(interaction=second)

    state = AgentRouting.objects.get(agent=agent)
    assert (state.load, state.last_assigned_at) == ({"chat": 1}, earlier)


@pytest.mark.django_db
def test_the_repair_finds_and_fixes_what_was_written_behind_the_triggers_back():
    queue = QueueFactory(channels=["chat"])
    agents = _agents(2)
    work = _work(queue, 3, random.Random(2))
    for interaction in work[:2]:
        lifecycle.interaction_assign(interaction=interaction, agent=agents[0])
    with connection.cursor() as cursor:  # as a restore with triggers off would: the state no longer follows
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE crm_interaction SET agent_id = %s WHERE id = %s", [agents[1].pk, work[0].pk])
        cursor.execute("SET LOCAL session_replication_role = origin")
    AgentRouting.objects.filter(agent=agents[1]).delete()  # and a state row lost

    with pytest.raises(CommandError, match="2 agent"):
        call_command("routing_repair_state", "--check")
    fixed = agent_routing_repair()

    assert sorted(d.agent_id for d in fixed) == sorted(a.pk for a in agents)
    assert next(d for d in fixed if d.agent_id == agents[0].pk).kept_load == {"chat": 2}
    assert next(d for d in fixed if d.agent_id == agents[1].pk).missing
    assert agent_routing_drift() == []
    assert AgentRouting.objects.get(agent=agents[0]).load == {"chat": 1}
    assert AgentRouting.objects.get(agent=agents[1]).load == {"chat": 1}
    # the router plans with the repaired figures: agent 0 has room for two more chats, agent 1 for two
    assert route_next() is not None


@pytest.mark.django_db(transaction=True)  # TRUNCATE refuses a table with checks still pending in the transaction
def test_a_new_agent_has_an_empty_state_and_a_truncated_table_empties_every_state():
    queue = QueueFactory(channels=["chat"])
    (agent,) = _agents(1)
    assert AgentRouting.objects.get(agent=agent).load == {}
    lifecycle.interaction_assign(interaction=_work(queue, 1, random.Random(3))[0], agent=agent)
    assert AgentRouting.objects.get(agent=agent).load == {"chat": 1}

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE crm_interaction CASCADE")

    state = AgentRouting.objects.get(agent=agent)
    assert (state.load, state.last_assigned_at) == ({}, None)


def _ranked_agents(queue, n: int) -> list[Agent]:
    """``n`` agents serving ``queue`` at various levels and idle times (several tie on level, some never idle)."""
    from tests.agents.factories import AgentSkillFactory, SkillFactory
    from tests.crm.factories import QueueSkillFactory

    skill = SkillFactory()
    QueueSkillFactory(queue=queue, skill=skill, min_level=2)
    agents = []
    for i in range(n):
        agent = AgentFactory(
            status=A.AVAILABLE,
            status_changed_at=None if i % 7 == 0 else timezone.now() - timedelta(minutes=(i * 13) % 29),
            capacity={"chat": 1 + i % 2, "email": 1},
        )
        AgentSkillFactory(agent=agent, skill=skill, level=1 + (i * 3) % 5)  # level 1: not qualified
        agents.append(agent)
    return agents


@pytest.mark.django_db
def test_reading_only_the_best_few_agents_assigns_exactly_as_reading_them_all(monkeypatch):
    from django.db import transaction

    from crm.routing.services import router

    queue = QueueFactory(channels=list(CHANNELS))
    _ranked_agents(queue, 24)
    _work(queue, 40, random.Random(5))

    def assignments(best_few: int) -> list[tuple[int, int]]:
        monkeypatch.setattr(router, "BEST_FEW", best_few)
        with transaction.atomic():
            routed = []
            while (interaction := route_next()) is not None:
                routed.append((interaction.pk, interaction.agent_id))
            transaction.set_rollback(True)
        return routed

    everyone = assignments(1000)
    assert len(everyone) > 16  # more assignments than a few agents could take
    assert assignments(2) == everyone
    assert assignments(1) == everyone


@pytest.mark.django_db(transaction=True)
def test_when_another_router_holds_the_best_few_the_next_best_agent_gets_the_work(monkeypatch):
    from django.db import transaction

    from crm.routing.services import router

    queue = QueueFactory(channels=["chat"])
    _ranked_agents(queue, 10)
    _work(queue, 1, random.Random(6))

    def pick(best_few: int) -> int:
        monkeypatch.setattr(router, "BEST_FEW", best_few)
        with transaction.atomic():
            agent_id = route_next(queue=queue).agent_id
            transaction.set_rollback(True)
        return agent_id

    best = pick(1000)
    locked, release = threading.Event(), threading.Event()

    def hold_best():  # as another router would while giving the best agent other work
        try:
            with transaction.atomic():
                list(AgentRouting.objects.select_for_update().filter(agent_id=best))
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    other = threading.Thread(target=hold_best)
    other.start()
    try:
        assert locked.wait(10)
        next_best = pick(1000)
        assert next_best != best
        assert pick(1) == next_best  # the one agent read is held: all of them are read, as the full read does
    finally:
        release.set()
        other.join()
