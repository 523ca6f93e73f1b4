"""A worker's tasks share its pooled database connections (``config.celery``, ``CELERY_DB_REUSE_MAX``): Celery's
Django fixup used to close a prefork child's pool after every task, so each task started new PostgreSQL backends
(and a thread of the child still reading found its pool closed). A real worker, with the pool on, running 20 tasks
that read the database: every backend it uses after them is one it had before them."""

import time
import uuid

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection

from config.celery import app
from tests.crm.test_worker import _env, start, stop, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

NO_SUCH_INBOX = 2_000_000_000  # the drain reads the database and finds nothing to do


def _backends(application_name: str) -> set[tuple[int, float]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, extract(epoch FROM backend_start) FROM pg_stat_activity WHERE application_name = %s",
            [application_name],
        )
        return set(cursor.fetchall())


def _run_tasks(broker, queue: str, count: int) -> None:
    for _ in range(count):
        app.send_task("crm.inboxes.tasks.email_drain", kwargs={"inbox_id": NO_SUCH_INBOX}, queue=queue)
    wait_for(lambda: broker.llen(queue) == 0, timeout=30, what="the worker to take every task")
    time.sleep(1)  # the last one runs to its end


def test_a_workers_tasks_reuse_its_pooled_connections(tmp_path):
    queue = f"test-worker-pool-{uuid.uuid4().hex[:12]}"
    name = f"sb-pool-{uuid.uuid4().hex[:8]}"
    env = _env(queue, tmp_path / "mail", instance=queue)
    env |= {
        "DATABASE_URL": f"{env['DATABASE_URL']}?application_name={name}",
        "DATABASE_POOL_MAX_SIZE": "2",
        "DATABASE_POOL_MIN_SIZE": "1",
    }
    args = ["worker", "-Q", queue, "--concurrency", "1", "--pool", "prefork", "-l", "warning"]
    process = start([*args, "--without-gossip", "--without-mingle", "--without-heartbeat"], env, tmp_path / "w.log")
    broker = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    try:
        _run_tasks(broker, queue, 1)
        before = wait_for(lambda: _backends(name), timeout=30, what="the worker's pool to connect")

        _run_tasks(broker, queue, 20)

        after = _backends(name)
        assert after and after <= before, (
            f"backends before the tasks: {sorted(before)}; after: {sorted(after)} (new ones were started)"
        )
        assert process.poll() is None, (tmp_path / "w.log").read_text()
    finally:
        stop(process)
        broker.delete(queue)
        broker.close()
