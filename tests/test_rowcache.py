"""The per-process caches (``config.rowcache``): a committed change is seen by the next request in every process,
a request checks Redis once, a transaction sees its own change and a rollback leaves nothing behind."""

import time

import pytest
from django.core.signals import request_finished, request_started
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from config.redis_clients import shared as shared_redis
from config.rowcache import RowCache, token_key
from crm.routing.selectors import queue_default_for_channel
from crm.webhooks.services import webhook_update
from crm.webhooks.subscribers import webhook_subscriber_ids
from tests.crm.factories import QueueFactory, WebhookFactory

probe = RowCache("test probe", watch={})


class Loads:
    def __init__(self):
        self.count = 0

    def __call__(self):
        self.count += 1
        return f"value {self.count}"


def request(fn):
    request_started.send(sender=None)
    try:
        return fn()
    finally:
        request_finished.send(sender=None)


def test_a_request_checks_the_generation_once_and_the_next_request_sees_another_process_change():
    load = Loads()
    request_started.send(sender=None)
    try:
        assert probe.get("key", load) == "value 1"
        shared_redis().set(token_key(), "written by another process after its commit")
        assert probe.get("key", load) == "value 1"  # the request keeps the generation it started with
    finally:
        request_finished.send(sender=None)

    assert request(lambda: probe.get("key", load)) == "value 2"
    assert request(lambda: probe.get("key", load)) == "value 2"
    assert load.count == 2


def test_outside_a_request_every_read_checks():
    load = Loads()
    assert probe.get("key", load) == "value 1"
    assert probe.get("key", load) == "value 1"
    shared_redis().set(token_key(), "another change")
    assert probe.get("key", load) == "value 2"


def test_a_value_that_should_not_be_kept_is_loaded_each_time():
    load = Loads()
    for _ in range(3):
        probe.get("miss", load, keep=lambda value: False)
    assert load.count == 3


def test_without_redis_every_read_loads_and_nothing_kept_before_is_trusted_after(settings):
    load = Loads()
    assert probe.get("key", load) == "value 1"
    working = settings.REDIS_URL
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens
    assert probe.get("key", load) == "value 2"
    assert probe.get("key", load) == "value 3"
    settings.REDIS_URL = working
    assert probe.get("key", load) == "value 4"  # a change may have gone unannounced meanwhile
    assert probe.get("key", load) == "value 4"


@pytest.mark.django_db(transaction=True)
def test_a_committed_queue_change_is_seen_at_once_and_a_rolled_back_one_leaves_nothing():
    first = QueueFactory(channels=["chat"], priority=5)
    assert queue_default_for_channel(channel="chat").pk == first.pk
    with CaptureQueriesContext(connection) as cached:
        assert queue_default_for_channel(channel="chat").pk == first.pk
    assert len(cached) == 0

    with pytest.raises(RuntimeError), transaction.atomic():
        inside = QueueFactory(channels=["chat"], priority=9)
        assert queue_default_for_channel(channel="chat").pk == inside.pk  # the transaction sees its own change
        raise RuntimeError("rolled back")
    with CaptureQueriesContext(connection) as after_rollback:
        assert queue_default_for_channel(channel="chat").pk == first.pk
    assert len(after_rollback) == 0  # nothing of the rolled-back transaction was kept, nothing had to be dropped

    second = QueueFactory(channels=["chat"], priority=9)  # committed (autocommit)
    assert queue_default_for_channel(channel="chat").pk == second.pk
    first.is_active = False
    first.save(update_fields=["is_active"])
    second.delete()
    assert queue_default_for_channel(channel="chat") is None


@pytest.mark.django_db(transaction=True)
def test_a_subscription_change_reaches_the_cache_and_its_failure_count_does_not_empty_it():
    webhook = WebhookFactory(events=["interaction.created"])
    assert webhook_subscriber_ids(type="interaction.created") == [webhook.pk]

    webhook.failure_count = 3
    webhook.save(update_fields=["failure_count"])
    with CaptureQueriesContext(connection) as cached:
        assert webhook_subscriber_ids(type="interaction.created") == [webhook.pk]
    assert len(cached) == 0

    webhook_update(webhook=webhook, events=["survey.answered"])
    assert webhook_subscriber_ids(type="interaction.created") == []
    assert webhook_subscriber_ids(type="survey.answered") == [webhook.pk]
    webhook_update(webhook=webhook, is_active=False)
    assert webhook_subscriber_ids(type="survey.answered") == []


def test_a_read_with_stale_for_skips_redis_within_its_window_and_sees_another_process_change_after_it():
    load = Loads()
    assert probe.get("key", load) == "value 1"  # outside a request: reads the generation now
    shared_redis().set(token_key(), "another process's change")

    # within the window: the entry under the generation read a moment ago, no round trip to Redis
    assert request(lambda: probe.get("key", load, stale_for=0.3)) == "value 1"
    # a read without stale_for in the same process still sees the change at once
    assert request(lambda: probe.get("key", load)) == "value 2"

    shared_redis().set(token_key(), "a later change")
    time.sleep(0.35)
    assert request(lambda: probe.get("key", load, stale_for=0.3)) == "value 3"  # the window has passed: read again
    assert load.count == 3


@pytest.mark.django_db(transaction=True)
def test_a_read_with_stale_for_sees_a_change_committed_in_its_own_process_at_once():
    queue = QueueFactory(channels=["chat"], priority=5)
    stale = RowCache("test stale probe", watch={"crm.Queue": None})
    load = Loads()
    assert stale.get("key", load, stale_for=60) == "value 1"

    queue.priority = 6
    queue.save()  # committed here: this process adopts the new generation as it announces it

    assert stale.get("key", load, stale_for=60) == "value 2"
