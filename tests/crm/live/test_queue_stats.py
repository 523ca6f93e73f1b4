"""Queue figures coalesced (crm.live.queue_stats), as in production: a burst of changes from several threads costs
a handful of counts, not one per change, and the figures the wallboard holds at the end equal a recount."""

import asyncio
import random
import threading
import time

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connections

from crm.interactions import services as lifecycle
from crm.live import queue_stats
from crm.live.selectors import live_queue_stats
from crm.live.tasks import queue_stats_flush_task
from tests.agents.factories import AgentFactory, TeamFactory
from tests.contacts.factories import CustomerFactory
from tests.crm.factories import QueueFactory

pytestmark = pytest.mark.django_db(transaction=True)

FIGURES = ("waiting", "assigned", "active")


@pytest.fixture
def wallboard():
    """A channel of the real layer in the groups of the queues given (``wallboard.watch(*queues)``; a queue's group
    carries only its figures, so a burst's interaction events cannot fill the channel over its capacity, as they
    would ``wallboard.all`` for a socket that does not read); ``wallboard()`` drains it and answers each queue's
    last figures."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    latest: dict[int, dict] = {}
    seen = {"stats": 0}

    def watch(*queues):
        for queue in queues:
            async_to_sync(layer.group_add)(f"queue.{queue.pk}", channel)

    async def drain(quiet: float) -> None:
        while True:
            try:
                message = await asyncio.wait_for(layer.receive(channel), timeout=quiet)
            except TimeoutError:
                return
            if message["event"] == "queue.stats":
                seen["stats"] += 1
                latest[message["data"]["id"]] = message["data"]

    def read(quiet: float = 1.5) -> dict[int, dict]:
        async_to_sync(drain)(quiet)
        return latest

    read.seen, read.watch = seen, watch
    return read


def _burst(queues, agents, *, changes: int, threads: int, seed: int) -> None:
    """Creates, assignments and resolves from several threads at once, each committing as a request does."""
    rng = random.Random(seed)
    plans = [[rng.random() for _ in range(changes // threads)] for _ in range(threads)]
    errors = []

    def work(plan):
        try:
            for roll in plan:
                queue = rng.choice(queues)
                interaction = lifecycle.interaction_create_inbound(
                    channel="chat", customer=CustomerFactory(), queue=queue
                )
                if roll > 0.4:
                    interaction = lifecycle.interaction_assign(interaction=interaction, agent=rng.choice(agents))
                if roll > 0.7:
                    interaction = lifecycle.interaction_accept(interaction=interaction)
                if roll > 0.9:
                    lifecycle.interaction_resolve(interaction=interaction)
        except Exception as exc:  # reported by the test, not lost in a thread
            errors.append(exc)
        finally:
            connections.close_all()

    running = [threading.Thread(target=work, args=(plan,)) for plan in plans]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join(120)
    assert not errors, errors


def test_a_burst_costs_a_few_counts_and_the_last_figures_equal_a_recount(settings, wallboard):
    settings.SWITCHBOARD_QUEUE_STATS_DELAY_SECONDS = 0.2
    team = TeamFactory()
    queues = [QueueFactory(team=team, channels=["chat"]) for _ in range(3)]
    agents = [AgentFactory(team=team, capacity={"chat": 100}) for _ in range(4)]
    wallboard.watch(*queues)
    before = queue_stats.counts.flushes

    started = time.monotonic()
    _burst(queues, agents, changes=120, threads=4, seed=7)
    took = time.monotonic() - started
    figures = wallboard()

    recount = {stats["id"]: stats for stats in live_queue_stats(queue_ids=[q.pk for q in queues])}
    for queue in queues:
        assert {k: figures[queue.pk][k] for k in FIGURES} == {k: recount[queue.pk][k] for k in FIGURES}
    flushes = queue_stats.counts.flushes - before
    # 120 creates and about as many assignments, accepts and resolves: one count per interval, not per change
    assert 1 <= flushes <= took / 0.2 + 2, (flushes, took)
    assert wallboard.seen["stats"] <= 3 * flushes


def test_figures_a_stopped_process_left_marked_are_sent_by_the_beat(settings, wallboard):
    settings.SWITCHBOARD_QUEUE_STATS_DELAY_SECONDS = 0.2
    dirty, lock = queue_stats._keys()
    queue_stats._redis().set(lock, "1", px=800)  # a flusher's lock, left by a process that stopped
    queue = QueueFactory(channels=["chat"])
    wallboard.watch(queue)
    lifecycle.interaction_create_inbound(channel="chat", customer=CustomerFactory(), queue=queue)
    assert queue_stats._redis().smembers(dirty) == {str(queue.pk).encode()}  # marked, and nobody to send it
    assert queue_stats_flush_task.apply().get() == 0  # the beat does not run beside a (possibly live) flusher

    time.sleep(0.9)  # the stopped flusher's lock expires
    assert queue_stats_flush_task.apply().get() == 1

    assert wallboard(quiet=0.5)[queue.pk]["waiting"] == 1
    assert wallboard.seen["stats"] == 1
    assert queue_stats_flush_task.apply().get() == 0  # nothing left marked
