"""Operating real Celery workers: the task and routing metrics a worker serves, and a warm stop on SIGTERM that lets
the task in flight finish (what `docker stop` and Kubernetes send)."""

import os
import signal
import subprocess
import uuid

import httpx
import pytest
import redis
from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from agents.choices import AgentStatus
from crm.choices import InteractionStatus, WebhookDeliveryStatus
from crm.interactions.models import Interaction
from crm.webhooks.models import WebhookDelivery
from crm.webhooks.services import webhook_emit
from tests.agents.factories import AgentFactory
from tests.crm.factories import QueueFactory, WebhookFactory, interaction_in_status
from tests.crm.test_worker import _env, start, stop, wait_for
from tests.support.ports import free_port

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def own_worker(tmp_path, publish_to, settings):
    """Start a worker of the test's own (on a queue of its own) with ``extra`` environment; stopped at the end.

    The worker and the test share an installation name of their own (the queue's): another test process on the same
    Redis asking for a routing run (one pending mark per installation) would otherwise keep this test's changes from
    asking for theirs, as ``tests/crm/test_worker.py``'s ``worker`` fixture explains."""
    started = []

    def make(**extra) -> subprocess.Popen:
        queue = f"test-ops-{uuid.uuid4().hex[:12]}"
        env = {**_env(queue, tmp_path / "mail", instance=queue), **extra}
        settings.SWITCHBOARD_INSTANCE = queue
        args = ["worker", "-Q", queue, "--concurrency", "1", "--pool", "prefork", "-l", "info"]
        process = start([*args, "--without-gossip", "--without-mingle", "--without-heartbeat"], env, tmp_path / "w.log")
        process.queue, process.log = queue, tmp_path / "w.log"
        started.append(process)
        publish_to(queue)
        return process

    yield make
    for process in started:
        stop(process)
        redis.Redis.from_url(django_settings.CELERY_BROKER_URL).delete(process.queue)


def _scrape(port: int) -> dict:
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
    except httpx.HTTPError:
        return {}
    families = text_string_to_metric_families(text)
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples}


def test_a_worker_serves_task_runtime_queue_lag_and_routing_decisions(own_worker, tmp_path):
    port = free_port()
    own_worker(
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"), SWITCHBOARD_WORKER_METRICS_PORT=str(port)
    )  # the pool's child runs the tasks; the worker adds up its files
    queue = QueueFactory(channels=["chat"], auto_accept=True)
    AgentFactory(status=AgentStatus.AVAILABLE, status_changed_at=timezone.now(), team=queue.team)
    work = interaction_in_status(InteractionStatus.QUEUED, queue=queue)  # its routing trigger goes to the worker

    wait_for(
        lambda: Interaction.objects.filter(pk=work.pk, agent__isnull=False).exists(), what="the worker to route it"
    )
    route = "crm.tasks.route_pending_task"
    finished = ("switchboard_celery_task_runtime_seconds_count", (("state", "SUCCESS"), ("task", route)))
    # the decision is counted inside the task, its run time once it returned: wait for both
    samples = wait_for(
        lambda: (
            (s := _scrape(port))
            and s.get(finished)
            and s.get(("switchboard_routing_decisions_total", (("outcome", "active"),)))
            and s
        ),
        what="the worker's metrics",
    )
    assert samples[("switchboard_routing_decisions_total", (("outcome", "active"),))] == 1
    runs = {dict(labels)["task"]: v for (n, labels), v in samples.items() if n.endswith("runtime_seconds_count")}
    lags = {dict(labels)["task"]: v for (n, labels), v in samples.items() if n.endswith("queue_lag_seconds_count")}
    assert runs[route] >= 1 and lags[route] >= 1
    assert ("switchboard_celery_task_runtime_seconds_count", (("state", "SUCCESS"), ("task", route))) in samples


def test_sigterm_lets_the_task_in_flight_finish_and_the_worker_exits(own_worker, receiver):
    worker = own_worker()
    receiver.hold = True  # the POST hangs: the worker is in the middle of its task when it is told to stop
    WebhookFactory(url=receiver.url)
    with transaction.atomic():
        [delivery] = webhook_emit(type="interaction.created", data={"interaction": {"id": 1}})
    assert receiver.arrived.wait(30), "the worker never called the receiver"

    os.kill(worker.pid, signal.SIGTERM)  # warm shutdown: take nothing new, finish what runs
    wait_for(lambda: "worker: Warm shutdown" in worker.log.read_text(), what="the worker to begin its warm shutdown")
    receiver.release.set()

    assert worker.wait(30) == 0
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (WebhookDeliveryStatus.DELIVERED, 1)
    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.filter(status=WebhookDeliveryStatus.PENDING).count() == 0
