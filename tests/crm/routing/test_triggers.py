"""Routing triggers coalesce: a burst of changes publishes one run while one is pending; the run clears the mark as
it starts, so a change after that publishes the next one. The process's requester thread asks, after the commits
(``CoalescedTask.request_soon``). Through the real broker (Redis)."""

import time

import pytest
import redis
from django.conf import settings
from django.db import transaction

from config.celery import app as celery_app
from crm.routing.services import triggers
from crm.routing.services.triggers import request_routing, routing_run_starting
from tests.crm.test_worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _changes(count: int) -> None:
    for n in range(count):
        with transaction.atomic():
            request_routing(reason=f"change {n}")


def test_a_burst_publishes_one_run_until_it_starts(counted_queue):
    assert not celery_app.conf.task_always_eager
    routing_run_starting()

    _changes(50)
    wait_for(lambda: counted_queue() == 1, timeout=5, what="a routing run to be requested")
    time.sleep(0.3)  # the requester's later turns
    assert counted_queue() == 1  # one run pending for all fifty

    routing_run_starting()  # the worker starts it: what commits from now on needs a run of its own
    _changes(3)
    wait_for(lambda: counted_queue() == 2, timeout=5, what="the next routing run to be requested")
    time.sleep(0.3)
    assert counted_queue() == 2


def test_a_lost_run_holds_the_mark_only_until_it_expires(counted_queue):
    routing_run_starting()
    _changes(1)
    wait_for(lambda: counted_queue() == 1, timeout=5, what="a routing run to be requested")
    key = triggers._mark_key()
    client = redis.Redis.from_url(settings.REDIS_URL)
    assert 0 < client.ttl(key) <= triggers.PENDING_MARK_SECONDS
    _changes(1)
    time.sleep(0.3)
    assert counted_queue() == 1  # still pending
    client.delete(key)  # the run was lost and its mark expired
    _changes(1)
    wait_for(lambda: counted_queue() == 2, timeout=5, what="a routing run to be requested again")
