"""Reports and timelines on a real streaming replica (config.replicas): a primary made with initdb and a replica
made with pg_basebackup, Switchboard migrated on the primary and served by uvicorn with DATABASE_REPLICA_URL.

Proves that the reads land on the replica (its own pg_stat_database counts them), that a stopped replica and a
replica lagging over DATABASE_REPLICA_MAX_LAG are skipped without an error, and that a client that wrote reads its
write at once (read-your-writes) while another client's read still comes from the replica.

Skipped where PostgreSQL's server binaries are missing, except with SWITCHBOARD_REQUIRE_REPLICA=1 (CI).
"""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest
from django.conf import settings as django_settings

from tests.support import pg_replica
from tests.support.ports import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "switchboard_replica_test"
MAX_LAG = 8.0  # room for a loaded CI machine between the write and the reads that must not see it


def _require() -> None:
    if not pg_replica.available():
        if os.environ.get("SWITCHBOARD_REQUIRE_REPLICA") == "1":
            pytest.fail(pg_replica.MISSING)
        pytest.skip(pg_replica.MISSING + " (CI requires them: SWITCHBOARD_REQUIRE_REPLICA=1)")


def _manage(env: dict, *args: str) -> str:
    done = subprocess.run(  # noqa: S603 (our own command line)
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.fixture(scope="module")
def pair():
    _require()
    servers = pg_replica.ReplicatedPostgres().start()
    try:
        with psycopg.connect(servers.url(servers.primary_port), autocommit=True) as primary:
            primary.execute(f"CREATE DATABASE {DATABASE}")
        yield servers
    finally:
        servers.stop()


@pytest.fixture(scope="module")
def site(pair, tmp_path_factory):
    """Switchboard on the pair: migrated on the primary, served by uvicorn, with two integrators' keys."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DEBUG": "false",
        "SECRET_KEY": django_settings.SECRET_KEY,
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": pair.url(pair.primary_port, DATABASE),
        "DATABASE_REPLICA_URL": pair.url(pair.replica_port, DATABASE),
        "DATABASE_REPLICA_MAX_LAG": str(MAX_LAG),
        "DATABASE_REPLICA_CHECK_SECONDS": "0.2",
        "DATABASE_REPLICA_STICKY_SECONDS": "5",
        "DATABASE_POOL_MAX_SIZE": "0",
        "REDIS_URL": django_settings.REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "SWITCHBOARD_INSTANCE": f"replica-test-{uuid.uuid4().hex[:8]}",
        "LOG_LEVEL": "WARNING",
    }
    _manage(env, "migrate", "--noinput")
    keys = {name: _manage(env, "create_api_key", "--name", name, "--scopes", "read,write,admin").splitlines()[0]
            for name in ("writer", "reader")}  # fmt: skip
    log = tmp_path_factory.mktemp("uvicorn") / "web.log"
    command = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(  # noqa: S603
        [*command, "--lifespan", "off", "--log-level", "warning"], cwd=ROOT, env=env, stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert process.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.2)
    clients = {
        name: httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=10)
        for name, key in keys.items()
    }
    queue = clients["writer"].post("/api/v1/queues/", json={"name": "Chat", "channels": ["chat"]})
    assert queue.status_code == 201, queue.text
    pair.wait_replayed()
    yield clients
    process.terminate()
    process.wait(15)


def _reads(pair, port: int) -> int:
    """Rows the server at ``port`` read in the test's database (its own statistics)."""
    with psycopg.connect(pair.url(port, "postgres"), autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(
            "SELECT tup_returned + tup_fetched FROM pg_stat_database WHERE datname = %s", [DATABASE]
        ).fetchone()
    return int(row[0])


def _settle() -> None:
    time.sleep(1.2)  # PostgreSQL flushes a backend's statistics at most once a second


def _timeline(client, customer: int) -> list[int]:
    response = client.get(f"/api/v1/customers/{customer}/timeline/")
    assert response.status_code == 200, response.text
    return sorted({entry["interaction"] for entry in response.json()["results"] if entry.get("interaction")})


def _new_work(client, address: str) -> dict:
    response = client.post(
        "/api/v1/interactions/", json={"channel": "chat", "customer_identity": {"address": address}, "body": "Hi"}
    )
    assert response.status_code == 201, response.text
    return response.json()


def _rows_read_during(pair, port: int, action) -> int:
    before = _reads(pair, port)
    action()
    _settle()
    return _reads(pair, port) - before


def test_reports_and_timelines_are_read_on_the_replica(pair, site):
    work = _new_work(site["writer"], "ada@example.com")
    reader = site["reader"]
    reader.get("/api/v1/queues/")  # the key's first use records it (a write): done before measuring
    pair.wait_replayed()
    _settle()

    def details():
        for _ in range(5):
            assert reader.get(f"/api/v1/interactions/{work['id']}/").status_code == 200

    def timelines():
        for _ in range(5):
            assert _timeline(reader, work["customer"]) == [work["id"]]

    def reports():
        for _ in range(5):
            report = reader.get("/api/v1/reports/kpis/", params={"group_by": "queue"})
            assert report.status_code == 200, report.text
            assert sum(row["offered"] for row in report.json()["rows"]) >= 1

    # an ordinary read (not marked for the replica) touches no row there; the timelines and reports read theirs
    assert _rows_read_during(pair, pair.replica_port, details) == 0
    assert _rows_read_during(pair, pair.replica_port, timelines) >= 5
    assert _rows_read_during(pair, pair.replica_port, reports) >= 5


def test_a_client_reads_its_own_write_while_others_read_the_replica(pair, site):
    # the replica stops replaying (as under a long query), just after a write it did replay: it is current, but
    # will not see what comes next
    first = _new_work(site["writer"], "grace@example.com")
    pair.wait_replayed()
    with psycopg.connect(pair.url(pair.replica_port, DATABASE), autocommit=True) as replica:
        replica.execute("SELECT pg_wal_replay_pause()")
        try:
            second = _new_work(site["writer"], "grace@example.com")  # the same customer writes again
            # the writer sees its write at once (the primary); the reader still reads the replica, which lacks it
            assert _timeline(site["writer"], first["customer"]) == [first["id"], second["id"]]
            assert _timeline(site["reader"], first["customer"]) == [first["id"]]
            # once the replica is further behind than DATABASE_REPLICA_MAX_LAG, it is skipped for everyone
            time.sleep(MAX_LAG + 0.5)
            assert _timeline(site["reader"], first["customer"]) == [first["id"], second["id"]]
        finally:
            replica.execute("SELECT pg_wal_replay_resume()")


def test_a_stopped_replica_is_skipped_without_an_error(pair, site):
    work = _new_work(site["writer"], "linus@example.com")
    pair.wait_replayed()
    pair.stop_replica()
    try:
        time.sleep(0.3)
        for _ in range(3):
            assert _timeline(site["reader"], work["customer"]) == [work["id"]]
            assert site["reader"].get("/api/v1/reports/kpis/").status_code == 200
    finally:
        pair.start_replica()
    time.sleep(0.5)
    assert _timeline(site["reader"], work["customer"]) == [work["id"]]
