"""Sending at most once more, whatever happens: concurrent senders of one delivery, and a real Celery worker killed
while the SMTP server holds its message. The data is committed (transactional tests): the senders have their own
connections."""

import os
import signal
import threading
import uuid

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection

from config.celery import app as celery_app
from crm.choices import DeliveryStatus
from crm.inboxes.models import Delivery
from crm.inboxes.services.delivery import delivery_publish_due, delivery_send
from crm.interactions.models import Message
from tests.crm.inboxes.outbound import delivery_of, email_inbox, email_work, reply
from tests.crm.test_worker import _env, pool_children, start, stop, wait_for

pytestmark = [pytest.mark.django_db(transaction=True)]

D = DeliveryStatus


@pytest.fixture
def own_queue():
    """Tasks this process publishes go to a broker queue of the test's own (a worker's, or nobody's)."""
    previous = celery_app.conf.task_default_queue
    queue = f"test-delivery-{uuid.uuid4().hex[:12]}"
    celery_app.conf.task_default_queue = queue
    yield queue
    celery_app.conf.task_default_queue = previous
    redis.Redis.from_url(django_settings.CELERY_BROKER_URL).delete(queue)


def test_senders_racing_for_one_delivery_send_it_once(smtp_sink, own_queue):
    delivery = delivery_of(reply(email_work(email_inbox(smtp_url=smtp_sink.url()))))
    smtp_sink.hold()  # the winner stays in the middle of sending while the others try
    start_together = threading.Barrier(6)
    results: dict[int, object] = {}

    def sender(n: int) -> None:
        try:
            start_together.wait(10)
            results[n] = delivery_send(delivery_id=delivery.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    assert smtp_sink.holding.wait(30), "nobody sent"
    wait_for(lambda: len(results) == 5, timeout=30, what="the losers to give up")
    assert list(results.values()) == [None] * 5  # while the winner is still sending
    smtp_sink.release.set()
    for thread in threads:
        thread.join(30)

    assert sorted(results.values(), key=str) == [None] * 5 + [D.SENT]
    assert len(smtp_sink.held) + len(smtp_sink.received) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (D.SENT, 1)


@pytest.fixture
def lease_worker(tmp_path, django_db_blocker, own_queue):
    """A real worker (prefork, one child) on the test's queue, with a 3 s send lease."""
    env = _env(own_queue, tmp_path / "mail") | {"DELIVERY_SEND_LEASE_SECONDS": "3"}
    args = ["worker", "-Q", own_queue, "--concurrency", "1", "--pool", "prefork", "-l", "warning"]
    process = start([*args, "--without-gossip", "--without-mingle", "--without-heartbeat"], env, tmp_path / "w.log")
    yield process
    stop(process)


@pytest.mark.slow
def test_a_worker_killed_while_sending_sends_once_more_and_records_one_outcome(smtp_sink, lease_worker):
    smtp_sink.hold()  # the first attempt's DATA is held: the worker is caught in the middle of sending
    message = reply(email_work(email_inbox(smtp_url=smtp_sink.url())))  # committed: published to the worker

    assert smtp_sink.holding.wait(60), "the worker never sent"
    [child] = pool_children(lease_worker.pid)
    os.kill(child, signal.SIGKILL)
    smtp_sink.release.set()  # the server would accept it now, but its sender is gone and never heard

    # the beat's sweep, every half second: the lost attempt is due again once its lease has run out
    wait_for(
        lambda: delivery_publish_due() >= 0 and Delivery.objects.filter(message=message, status=D.SENT).exists(),
        timeout=60,
        what="the delivery to be sent again",
    )
    delivery = delivery_of(message)
    (received,) = smtp_sink.received
    assert len(smtp_sink.held) == 1  # the killed attempt: once more, not more
    # one outcome: the attempt that finished; the killed one counted, but recorded nothing
    assert (delivery.status, delivery.attempts, delivery.error) == (D.SENT, 2, "")
    assert received.message["Message-ID"] == f"<{delivery.provider_id}>"
    assert Message.objects.get(pk=message.pk).external_id == delivery.provider_id
    # nothing is left to send: later sweeps send nothing
    assert delivery_publish_due() == 0
    assert len(smtp_sink.received) == 1 and lease_worker.poll() is None
