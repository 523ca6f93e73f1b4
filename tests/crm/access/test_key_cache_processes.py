"""API keys and queues are cached per process (``config.rowcache``); a change made in another process reaches a
running web server before its next request: a revoked key is refused within a second, a new default queue is used.

The server is a real ``uvicorn`` process on the test database and the test's Redis; the change is made here, in the
test's process, through the services, as an administrator would.
"""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from crm.access.models import ApiKey
from crm.access.services.api_keys import api_key_create, api_key_revoke
from crm.routing.services.queues import queue_update
from tests.crm.factories import QueueFactory
from tests.support.ports import free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]


def _database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def server(own_cache_generation):
    """A server sharing the caches' generation with this test alone: a queue saved meanwhile by a test of another
    process on the same Redis would otherwise empty the server's caches between two calls of a test."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(),
        "SWITCHBOARD_INSTANCE": settings.SWITCHBOARD_INSTANCE,
    }
    command = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen([*command, "--lifespan", "off", "--log-level", "warning"], cwd=ROOT, env=env)  # noqa: S603
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1).close()  # noqa: S310
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("the web server did not start")
                time.sleep(0.2)
        yield base
    finally:
        process.kill()
        process.wait(timeout=10)


def call(url: str, raw_key: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {raw_key}", "Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if body else "GET")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_a_key_revoked_in_another_process_is_refused_by_the_server_within_a_second(server):
    key, raw = api_key_create(name="integration", scopes=["read"])
    url = f"{server}/api/v1/queues/"
    assert call(url, raw)[0] == 200
    # The server answers from its cache now: a change behind the caches' back (an UPDATE, no signal) goes unseen…
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now())
    assert call(url, raw)[0] == 200

    api_key_revoke(api_key=key)  # …a revocation through the service reaches every process once it commits
    revoked_at = time.monotonic()
    while (status := call(url, raw)[0]) == 200 and time.monotonic() - revoked_at < 1:
        time.sleep(0.02)
    assert status == 401
    assert time.monotonic() - revoked_at < 1
    assert call(url, raw)[0] == 401


def test_a_queue_changed_in_another_process_takes_the_servers_next_create(server):
    first = QueueFactory(channels=["chat"], priority=5)
    second = QueueFactory(channels=["chat"], priority=3)
    _, raw = api_key_create(name="integration", scopes=["read", "write"])
    url = f"{server}/api/v1/interactions/"

    def create():
        status, body = call(url, raw, {"channel": "chat", "customer_identity": {"address": "ada@example.com"}})
        assert status == 201, body
        return body["queue"]

    assert create() == first.pk
    queue_update(queue=first, data={"is_active": False})
    assert create() == second.pk
