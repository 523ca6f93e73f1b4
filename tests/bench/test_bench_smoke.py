"""Every benchmark's data generator and one short phase, run at a tiny size against the test database, so none
rots silently; and the one way they choose a database (``bench/_db.py``: only ``bench_*``, never another).

The generators write with their own connections (raw ``INSERT … SELECT generate_series`` through psycopg) or the
ORM, as the benchmarks do; a column added to a model without a database default breaks a raw INSERT here first.
Transactional tests: the generators commit, and the database is flushed after each test.
"""

import importlib.util
import os
import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

import httpx
import psycopg
import pytest
from celery._state import _set_task_join_will_block
from django.db import connection

from tests.support.ports import free_port

BENCH = Path(__file__).resolve().parents[2] / "bench"

pytestmark = [pytest.mark.django_db(transaction=True)]


def bench_module(name: str):
    """A benchmark script imported by path (they import each other as siblings, so ``bench/`` goes on the path)."""
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def database_url() -> str:
    """The test database's URL: the generators take a URL (their ``main`` makes it from ``bench/_db.py``)."""
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def count(url: str, sql: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchone()[0]


def count_addresses(url: str, address: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM contacts_contactidentity WHERE address = %s", [address]).fetchone()[0]


def settled_count(url: str, sql: str, quiet: float = 0.5, within: float = 10.0) -> int:
    """The count once it has stopped moving for ``quiet`` seconds: when wrk stops, the live server's threads may
    still be finishing a request wrk gave up on, and that request commits after wrk has returned."""
    import time

    deadline = time.monotonic() + within
    last = count(url, sql)
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = count(url, sql)
        if now == last:
            return now
        last = now
    raise AssertionError(f"{sql!r} still moving after {within} s")


def test_api_ingest_generates_interactions_and_drives_create_and_list(database_url, live_server):
    import asyncio

    from crm.access.services.api_keys import api_key_create

    api_ingest = bench_module("api_ingest")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_ceiling"
            " (id bigserial PRIMARY KEY, payload jsonb NOT NULL, created_at timestamptz NOT NULL)"
        )
    api_ingest.generate(database_url, interactions=200, customers=20)
    assert count(database_url, "SELECT count(*) FROM crm_interaction") == 200
    assert count(database_url, "SELECT count(*) FROM contacts_customer") == 20
    assert count(database_url, "SELECT count(*) FROM crm_interaction WHERE status = 'queued'") == 4
    # one short phase of each driver against a live server on the generated data
    _, key = api_key_create(name="bench smoke", scopes=["read", "write"])
    created = asyncio.run(
        api_ingest.drive("create", duration=1.0, concurrency=2, request=api_ingest.api_ingest(live_server.url, key, 20))
    )
    listed = asyncio.run(
        api_ingest.drive("list", duration=0.5, concurrency=2, request=api_ingest.api_list(live_server.url, key, 2))
    )
    assert created.requests > 0 and not created.errors, created.error_samples
    assert listed.requests > 0 and not listed.errors, listed.error_samples
    assert count(database_url, "SELECT count(*) FROM crm_interaction") == 200 + created.requests


def test_kpis_generates_a_history_with_surveys_and_times_every_report(database_url, capsys):
    kpis = bench_module("kpis")
    kpis.generate(database_url, interactions=400, customers=50)
    assert count(database_url, "SELECT count(*) FROM crm_interaction") == 400
    assert count(database_url, "SELECT count(*) FROM crm_interaction WHERE status = 'resolved'") > 0
    assert count(database_url, "SELECT count(*) FROM crm_survey") > 0
    kpis.measure(repeat=1, explain=False)
    out = capsys.readouterr().out
    assert "per-agent rollup refresh:" in out
    for label in ("agent's own 90-day summary (rollup)", "team supervisor's 90-day summary by agent (raw)"):
        assert label in out


def test_benchmarks_use_only_a_database_of_their_own(monkeypatch):
    _db = bench_module("_db")
    # DATABASE_URL gives the server, never the database
    monkeypatch.setenv("DATABASE_URL", "postgres://someone:secret@db.internal:6543/switchboard_dev")
    assert _db.database_url("bench_kpis") == "postgres://someone:secret@db.internal:6543/bench_kpis"
    for name in ("switchboard_dev", "sb_rollup", "postgres", "bench-x", "bench_", "BENCH_KPIS"):
        with pytest.raises(SystemExit, match="refusing to run"):
            _db.database_url(name)
    # the truncating generators refuse anything but a benchmark's or a test run's database
    with pytest.raises(SystemExit, match="refusing to run"):
        _db.assert_scratch("switchboard_dev")
    _db.assert_scratch("bench_sla_sweep")


def test_a_bench_database_is_created_marked_refused_when_foreign_and_dropped(database_url, monkeypatch):
    _db = bench_module("_db")
    monkeypatch.setenv("DATABASE_URL", database_url)  # only its server is used
    name = "bench_smoke_db"
    url = _db.prepare(name, recreate=True)
    assert url.endswith("/bench_smoke_db")
    assert count(url, "SELECT count(*) FROM pg_tables WHERE tablename = 'bench_owner'") == 1
    _db.prepare(name)  # its own: used again
    _db.finish(url, keep=True)
    assert count(database_url, "SELECT count(*) FROM pg_database WHERE datname = 'bench_smoke_db'") == 1
    # someone's database that happens to be named bench_*: holds tables, not marked -> refused, left alone
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE bench_owner")
        conn.execute("CREATE TABLE precious (id int)")
    with pytest.raises(SystemExit, match="refusing to run"):
        _db.prepare(name, recreate=True)
    assert count(url, "SELECT count(*) FROM pg_tables WHERE tablename = 'precious'") == 1
    _db.finish(url, keep=False)
    assert count(database_url, "SELECT count(*) FROM pg_database WHERE datname = 'bench_smoke_db'") == 0


def test_routing_builds_its_agents_queues_and_waiting_work(database_url):
    routing = bench_module("routing")
    args = SimpleNamespace(agents=6, skills=4, queues=2, capacity=3, proposed_index=False)
    routing.reset_data(database_url, args, queued=12, history=5)
    assert count(database_url, "SELECT count(*) FROM crm_interaction WHERE status = 'queued'") == 12
    assert count(database_url, "SELECT count(*) FROM crm_interaction WHERE status = 'closed'") == 5
    assert count(database_url, "SELECT count(*) FROM agents_agent WHERE status = 'available'") == 6
    # the router under test runs on it, as the benchmark's phases do
    assert routing._routing_module(None, events=True).route_pending(limit=50) > 0


def test_sla_sweep_generates_due_and_pending_clocks(database_url):
    sla_sweep = bench_module("sla_sweep")
    sla_sweep.generate(interactions=30, due=5)
    assert count(database_url, "SELECT count(*) FROM crm_interaction") == 30
    assert len(sla_sweep.due_ids()) == 5
    assert sla_sweep.sla_sweep(limit=5) == 10  # the warning and the breach of each due row


def test_survey_dispatch_resolves_interactions_that_write_surveys(database_url):
    survey_dispatch = bench_module("survey_dispatch")
    assert survey_dispatch.resolve_interactions(3) == 3
    assert count(database_url, "SELECT count(*) FROM crm_survey WHERE status = 'pending'") == 3


@pytest.fixture
def eager_routing(settings, tmp_path):
    """Celery in-process (the server thread routes on commit, no worker), attachments under the test's directory."""
    from config.celery import app as celery_app

    settings.MEDIA_ROOT = tmp_path / "media"
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous
    # Celery's "inside a task" flag is one global that eager tasks set and reset around themselves: two threads
    # (the live server's and the test's) running them at once can leave it set, and a later test's ``.get()`` on a
    # task result would then refuse to block ("Never call result.get() within a task!")
    _set_task_join_will_block(False)


def test_email_ingest_generates_threads_and_imports_them_through_the_endpoint_and_imap(
    database_url, live_server, eager_routing
):
    import asyncio

    from tests.support import dovecot

    email_ingest = bench_module("email_ingest")
    mails = email_ingest.generate_mails(30, prefix="smoke", reply_lag=5)
    replies = [mail for mail in mails if mail.parent]
    assert len(replies) == 9  # every third (n % 3 == 2) from the fifth on
    position = {mail.message_id: n for n, mail in enumerate(mails)}
    assert all(position[mail.parent] <= position[mail.message_id] - 5 for mail in replies)
    assert all(b"In-Reply-To: <" + mail.parent.encode() + b">" in mail.raw for mail in replies)

    server = None
    if dovecot.available():
        server = dovecot.Dovecot()
        server.start()
    try:
        account = server.add_account() if server else None
        endpoint, imap = email_ingest.make_center(agents=2, capacity=40, imap_url=account.url() if account else "")
        url = f"{live_server.url}/inbound/email/{endpoint.token}/"
        phase = asyncio.run(email_ingest.post_mails(url, mails, concurrency=2, label="endpoint"))
        assert phase.statuses == {201: 30} and not phase.errors
        email_ingest.measure_routing(endpoint.pk, mails, phase, timeout=10)
        assert phase.check == "30/30 imported once, 9/9 replies on their thread"
        assert len(phase.routed) == 30 and not phase.errors  # every one on a routed interaction
        if imap is not None:
            email_ingest.append_mails("127.0.0.1", account.port, account.username, account.password, mails)
            phase = email_ingest.poll_mailbox(imap, mails, "imap")
            assert phase.count == 30 and not phase.errors
            email_ingest.measure_routing(imap.pk, mails, phase, timeout=10)
            assert phase.check == "30/30 imported once, 9/9 replies on their thread"
    finally:
        if server:
            server.stop()
    # only a bench_* database is ever used (let alone dropped): the test database is refused by name
    with pytest.raises(SystemExit, match="refusing to run"):
        email_ingest.prepare_database(connection.settings_dict["NAME"])


def test_email_ingest_queued_import_answers_202_and_the_drain_imports_every_mail(
    database_url, live_server, eager_routing
):
    import asyncio

    email_ingest = bench_module("email_ingest")
    mails = email_ingest.generate_mails(12, prefix="smokeq", reply_lag=3)
    endpoint, _ = email_ingest.make_center(agents=2, capacity=40, mode="queued")
    url = f"{live_server.url}/inbound/email/{endpoint.token}/"
    phase = asyncio.run(email_ingest.post_mails(url, mails, concurrency=1, label="endpoint POST (queued)"))
    assert phase.statuses == {202: 12} and not phase.errors
    drain = email_ingest.measure_drain(endpoint.pk, len(mails), timeout=10)
    assert drain.count == 12 and drain.seconds > 0 and not drain.errors
    email_ingest.measure_routing(endpoint.pk, mails, phase, timeout=10)
    assert phase.check == "12/12 imported once, 3/3 replies on their thread"
    assert len(phase.routed) == 12


@pytest.mark.skipif(not shutil.which("wrk"), reason="wrk is not installed (apt-get install wrk; .ci/run installs it)")
def test_create_vs_helpdesk_drives_our_create_with_wrk_under_its_servers(database_url, live_server):
    from crm.access.services.api_keys import api_key_create

    bench = bench_module("create_vs_helpdesk")
    _, key = api_key_create(name="bench smoke", scopes=["read", "write"])
    env = {**os.environ, "SB_KEY": key, "SB_CUSTOMERS": "20"}
    before = count(database_url, "SELECT count(*) FROM crm_interaction")
    served = bench.wrk(live_server.url + "/api/v1/interactions/", mode="create", duration=1, connections=2, env=env)
    assert served["requests"] > 0 and bench.errors(served) == 0, served
    # the warm-up's requests count too: every one of them made an interaction
    assert count(database_url, "SELECT count(*) FROM crm_interaction") >= before + served["requests"]
    # the list mode reads the queue's first page with the key, and writes nothing
    before = settled_count(database_url, "SELECT count(*) FROM crm_interaction")
    listed = bench.wrk(live_server.url + bench.QUEUED, mode="list", duration=1, connections=2, env=env)
    assert listed["requests"] > 0 and bench.errors(listed) == 0, listed
    assert count(database_url, "SELECT count(*) FROM crm_interaction") == before
    # Switchboard's WSGI entry point under gunicorn and under granian (production's web role) answers the same create
    server_env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    servers = {
        "gunicorn": bench.gunicorn(
            "config.wsgi:application", port=free_port(), workers=1, worker_class="sync", threads=1, env=server_env
        ),
        "granian": bench.granian("config.wsgi:application", port=free_port(), workers=1, threads=2, env=server_env),
    }
    for name, server in servers.items():
        with server as base:
            response = httpx.post(
                base + "/api/v1/interactions/",
                json={"channel": "chat", "customer_identity": {"channel": "email", "address": f"{name}@example.com"}},
                headers={"Authorization": f"Bearer {key}"},
            )
        assert response.status_code == 201, response.text
        assert response.json()["customer"] is not None
        assert count_addresses(database_url, f"{name}@example.com") == 1, name
