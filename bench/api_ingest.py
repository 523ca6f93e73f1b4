"""Ingest and list benchmark of the interactions API, against a database of a million interactions.

Usage (from the repository root, PostgreSQL and Redis running):

    .venv/bin/python bench/api_ingest.py                       # generate if needed, then drive API and ceiling
    .venv/bin/python bench/api_ingest.py --generate-only       # just build (or check) the database
    .venv/bin/python bench/api_ingest.py --workers 4 --concurrency 64 --duration 30
    .venv/bin/python bench/api_ingest.py --regenerate --interactions 200000   # a smaller, fresh database

What it does:

1. Database (``--database``, default ``bench_api_ingest``; see ``bench/_db.py``: only a ``bench_*`` database, on
   ``DATABASE_URL``'s server, kept after the run unless ``--drop-database``): created if missing, ``migrate``d, then filled with ``--interactions`` interactions (1,000,000), ``--customers`` customers
   with an e-mail identity each, 50 agents, one team, queue and SLA policy, by ``INSERT … SELECT
   generate_series`` with the secondary indexes dropped during the load and rebuilt after, then ``ANALYZE``.
   A database that already holds enough interactions is reused as it is (``--regenerate`` forces a rebuild).
   2 % of the interactions, the most recent, are still queued: the list endpoint pages through them.
2. The API: uvicorn serving ``config.asgi:application`` (``--workers`` processes, DEBUG off, production
   settings: ``SECRET_KEY`` set, ``ALLOWED_HOSTS=127.0.0.1``, ``SECURE_SSL_REDIRECT=false``, psycopg pool of
   ``--pool-size`` per process), an API key made by ``manage.py create_api_key``, then for ``--duration``
   seconds each, ``--concurrency`` concurrent httpx clients:
   (a) ``POST /api/v1/interactions/`` with a ``customer_identity`` (70 % existing customers, 30 % new addresses);
   (b) ``GET /api/v1/interactions/?status=queued``: the first page, then up to ``--pages`` pages by ``next``.
3. The ceiling: ``bench/ceiling_app.py`` (one bare INSERT, one bare SELECT … LIMIT 50, same server, settings
   and pool) under the same load, so the ratios say what our code costs beyond the framework and database.

It prints requests/s, p50, p99 and errors for each phase, and the ratios API/ceiling. Not part of the test
suite. Servers are started in their own process group and stopped at the end, whatever happens.
"""

import argparse
import asyncio
import os
import random
import signal
import statistics
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _db  # noqa: E402  (bench/_db.py: the benchmark's own database)

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEFAULT_DATABASE = "bench_api_ingest"
CHANNELS = ("voice", "email", "chat", "sms", "social")
QUEUED_SHARE = 0.02
BENCH_SECRET_KEY = "bench-secret-key-not-for-production-" + "x" * 32  # noqa: S105  (a local benchmark server)
AGENTS = 50
HISTORY_DAYS = 180


# --- the database ------------------------------------------------------------------------------------


def _log(message: str) -> None:
    print(message, flush=True)


def manage(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(  # noqa: S603  (our own manage.py with fixed arguments)
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


@contextmanager
def indexes_dropped(cur: psycopg.Cursor, table: str):
    """Drop the table's secondary indexes for a bulk load and rebuild them after: one sorted build per index
    is far cheaper than a million index insertions. Indexes behind constraints (primary key, unique) stay."""
    cur.execute(
        """
        SELECT indexname, indexdef FROM pg_indexes
        WHERE schemaname = current_schema() AND tablename = %s
          AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)
        """,
        [table, table],
    )
    definitions = cur.fetchall()
    for name, _ in definitions:
        cur.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    yield
    for _, definition in definitions:
        cur.execute(definition)


def generate(url: str, *, interactions: int, customers: int) -> None:
    """Truncate and fill the bench tables in one transaction (all or nothing)."""
    timings = []

    def step(label: str, started: float) -> float:
        now = time.monotonic()
        timings.append((label, now - started))
        _log(f"  {label}: {now - started:.1f} s")
        return now

    started = t = time.monotonic()
    _db.assert_scratch(psycopg.conninfo.conninfo_to_dict(url)["dbname"])
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '512MB'")
        cur.execute("SET synchronous_commit = off")
        # The rows below are generated consistent; skipping per-row foreign key triggers halves the load time.
        cur.execute("SET session_replication_role = replica")
        cur.execute(
            "TRUNCATE crm_interaction, contacts_contactidentity, contacts_customer, agents_agent, crm_queue,"
            " crm_slatarget, crm_slapolicy, agents_team, crm_apikey, bench_ceiling RESTART IDENTITY CASCADE"
        )
        cur.execute("DELETE FROM auth_user WHERE username LIKE 'bench-agent-%%'")
        team_id = cur.execute(
            "INSERT INTO agents_team (name, description, created_at) VALUES ('Bench', '', now()) RETURNING id"
        ).fetchone()[0]
        policy_id = cur.execute(
            "INSERT INTO crm_slapolicy (name, description, escalation_steps, pause_on_hold, is_active, created_at,"
            " updated_at) VALUES ('Bench SLA', '', '[]', false, true, now(), now()) RETURNING id"
        ).fetchone()[0]
        cur.execute(
            """
            INSERT INTO crm_slatarget (policy_id, channel, priority, first_response_seconds, next_response_seconds,
                                       resolution_seconds, is_default)
            VALUES (%(p)s, 'voice', NULL, 20, NULL, NULL, false), (%(p)s, 'chat', NULL, 120, 180, 3600, false),
                   (%(p)s, 'email', NULL, 14400, 28800, 86400, false), (%(p)s, 'sms', NULL, 900, 1800, 28800, false),
                   (%(p)s, 'social', NULL, 3600, 7200, 86400, false)
            """,
            {"p": policy_id},
        )
        queue_id = cur.execute(
            """
            INSERT INTO crm_queue (name, description, channels, priority, service_level_seconds, service_level_target,
                                   accept_timeout_seconds, auto_accept, surveys_enabled, survey_kind, is_active,
                                   created_at, team_id, sla_policy_id)
            VALUES ('Bench inbound', '', %s, 5, 20, 0.8, 30, false, true, 'csat', true, now(), %s, %s) RETURNING id
            """,
            [list(CHANNELS), team_id, policy_id],
        ).fetchone()[0]
        cur.execute(
            """
            INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff,
                                   is_active, date_joined)
            SELECT '!', false, 'bench-agent-' || g, 'Agent', g::text, '', false, true, now()
            FROM generate_series(1, %s) g
            """,
            [AGENTS],
        )
        cur.execute(
            """
            INSERT INTO agents_agent (name, capacity, status, is_active, created_at, updated_at, user_id, team_id)
            SELECT 'Agent ' || u.first_name || ' ' || u.last_name, '{"voice": 1, "chat": 3, "email": 5}',
                   'offline', true, now(), now(), u.id, %s
            FROM auth_user u WHERE u.username LIKE 'bench-agent-%%' ORDER BY u.id
            """,
            [team_id],
        )
        t = step("reference data", t)

        with indexes_dropped(cur, "contacts_customer"), indexes_dropped(cur, "contacts_contactidentity"):
            cur.execute(
                """
                INSERT INTO contacts_customer (name, email, phone, language, timezone, tier, tags, attributes,
                                               survey_opt_out, marketing_consent, created_at, updated_at)
                SELECT 'Bench Customer ' || g, 'bench' || g || '@example.com', '', 'en', 'UTC', 'standard', '{}',
                       '{}', false, false, now() - interval '1 year', now() - interval '1 year'
                FROM generate_series(1, %s) g
                """,
                [customers],
            )
            cur.execute(
                """
                INSERT INTO contacts_contactidentity (channel, address, is_primary, verified, created_at, customer_id)
                SELECT 'email', email, true, true, created_at, id FROM contacts_customer
                """
            )
            t = step(f"{customers:,} customers and identities", t)
        t = step("customer indexes rebuilt", t)

        with indexes_dropped(cur, "crm_interaction"):
            # Oldest first, so ids grow with time; the most recent QUEUED_SHARE still wait in the queue,
            # one in 97 of the rest was abandoned, the others are closed with a full set of step times.
            cur.execute(
                """
                WITH ids AS (
                    SELECT (SELECT min(id) FROM contacts_customer) AS first_customer,
                           (SELECT count(*) FROM contacts_customer) AS customers,
                           (SELECT min(id) FROM agents_agent) AS first_agent,
                           (SELECT count(*) FROM agents_agent) AS agents
                ),
                rows AS (
                    SELECT g,
                           now() - make_interval(secs => (%(n)s - g) * %(spacing)s) AS created,
                           CASE WHEN g > %(n)s * (1 - %(queued)s) THEN 'queued'
                                WHEN g %% 97 = 0 THEN 'abandoned' ELSE 'closed' END AS status
                    FROM generate_series(1, %(n)s::bigint) g
                )
                INSERT INTO crm_interaction (
                    customer_id, channel, direction, queue_id, subject, status, priority, agent_id, external_id,
                    disposition, category, tags, follow_up_of_id, created_at, queued_at, assigned_at, accepted_at,
                    first_response_at, resolved_at, closed_at, abandoned_at, updated_at, first_response_due_at,
                    resolution_due_at, talk_seconds, hold_seconds, wrap_up_seconds)
                SELECT ids.first_customer + (g * 7919) %% ids.customers,
                       (ARRAY['voice', 'email', 'chat', 'sms', 'social'])[1 + g %% 5],
                       'inbound', %(queue)s, 'Bench interaction ' || g, status, 2 + (g %% 7 = 0)::int,
                       CASE WHEN status = 'closed' THEN ids.first_agent + g %% ids.agents END,
                       '', CASE WHEN status = 'closed' THEN 'Resolved' ELSE '' END,
                       CASE WHEN status = 'closed' THEN 'Bench' ELSE '' END, '{}', NULL,
                       created, created,
                       CASE WHEN status = 'closed' THEN created + interval '20 seconds' END,
                       CASE WHEN status = 'closed' THEN created + interval '25 seconds' END,
                       CASE WHEN status = 'closed' THEN created + interval '40 seconds' END,
                       CASE WHEN status = 'closed' THEN created + interval '420 seconds' END,
                       CASE WHEN status = 'closed' THEN created + interval '2 days' END,
                       CASE WHEN status = 'abandoned' THEN created + interval '60 seconds' END,
                       created + interval '420 seconds',
                       created + interval '120 seconds', created + interval '1 hour',
                       CASE WHEN status = 'closed' THEN 360 ELSE 0 END, 0,
                       CASE WHEN status = 'closed' THEN 35 ELSE 0 END
                FROM rows, ids
                """,
                {
                    "n": interactions,
                    "spacing": HISTORY_DAYS * 86400 / max(1, interactions),
                    "queued": QUEUED_SHARE,
                    "queue": queue_id,
                },
            )
            t = step(f"{interactions:,} interactions", t)
        t = step("interaction indexes rebuilt", t)
        conn.commit()
        t = step("commit", t)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")
    step("ANALYZE", t)
    _log(f"generated in {time.monotonic() - started:.1f} s")


def prepare_database(url: str, *, interactions: int, customers: int, regenerate: bool, env: dict[str, str]) -> None:
    t = time.monotonic()
    manage("migrate", "--noinput", env=env)
    _log(f"migrate: {time.monotonic() - t:.1f} s")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_ceiling"
            " (id bigserial PRIMARY KEY, payload jsonb NOT NULL, created_at timestamptz NOT NULL)"
        )
        present = conn.execute("SELECT count(*) FROM crm_interaction").fetchone()[0]
        queued = conn.execute("SELECT count(*) FROM crm_interaction WHERE status = 'queued'").fetchone()[0]
    if present >= interactions and queued and not regenerate:
        _log(f"reusing the database: {present:,} interactions ({queued:,} queued)")
        return
    _log(f"generating {interactions:,} interactions and {customers:,} customers (found {present:,})…")
    generate(url, interactions=interactions, customers=customers)


# --- servers -----------------------------------------------------------------------------------------


def server_env(args) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DEBUG": "false",
        "SECRET_KEY": BENCH_SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "DATABASE_POOL_MAX_SIZE": str(args.pool_size),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        # whitenoise warns once per process that collectstatic has not run; the API serves no static files
        "PYTHONWARNINGS": "ignore:No directory at",
    }
    return env


@contextmanager
def uvicorn(app: str, *, port: int, workers: int, env: dict[str, str]):
    """Serve ``app`` on 127.0.0.1:``port`` until the block ends; the server gets its own process group."""
    command = [PYTHON, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
               "--no-access-log", "--log-level", "warning"]  # fmt: skip
    with serving(command, name=app, port=port, env=env) as base:
        yield base


@contextmanager
def serving(command: list[str], *, name: str, port: int, env: dict[str, str]):
    """Run the server ``command`` until the block ends (own process group), once it answers ``/healthz``."""
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)  # noqa: S603
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"{name} exited with {process.returncode} before it served anything")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{name} did not answer /healthz within 60 s")
            time.sleep(0.3)
        yield f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


# --- load ----------------------------------------------------------------------------------------------


@dataclass
class Result:
    label: str
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return len(self.latencies) + self.errors

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] * 1000 if self.latencies else float("nan")
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[int(q) - 1] * 1000


async def drive(label: str, *, duration: float, concurrency: int, request) -> Result:
    """``concurrency`` tasks call ``request(client, state)`` back to back for ``duration`` seconds."""
    result = Result(label, duration)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        deadline = time.monotonic() + duration

        async def worker(n: int) -> None:
            state: dict = {"rng": random.Random(n)}  # noqa: S311  (load shape, not secrets)
            while time.monotonic() < deadline:
                started = time.monotonic()
                try:
                    response = await request(client, state)
                    ok = response.status_code < 400
                except httpx.HTTPError as exc:
                    response, ok = None, False
                    sample = f"{type(exc).__name__}: {exc}"
                elapsed = time.monotonic() - started
                if ok:
                    result.latencies.append(elapsed)
                else:
                    result.errors += 1
                    if response is not None:
                        sample = f"{response.status_code}: {response.text[:200]}"
                    if len(result.error_samples) < 3:
                        result.error_samples.append(sample)

        started = time.monotonic()
        # bounded: the slowest request in flight at the deadline gets the client timeout, no more
        await asyncio.wait_for(asyncio.gather(*(worker(n) for n in range(concurrency))), timeout=duration + 35)
        result.seconds = time.monotonic() - started
    return result


def api_ingest(base: str, key: str, customers: int):
    headers = {"Authorization": f"Bearer {key}"}

    async def request(client: httpx.AsyncClient, state: dict) -> httpx.Response:
        rng = state["rng"]
        channel = rng.choice(CHANNELS)
        if rng.random() < 0.7:
            n = rng.randint(1, customers)
            identity = {"channel": "email", "address": f"bench{n}@example.com", "name": f"Bench Customer {n}"}
        else:
            identity = {"channel": "email", "address": f"new-{uuid.uuid4().hex[:20]}@example.com", "name": "New"}
        body = {
            "channel": channel,
            "customer_identity": identity,
            "subject": "Benchmark contact",
            "body": "Hello, I need help with my account.",
            "priority": rng.choice((1, 2, 2, 2, 3)),
        }
        return await client.post(f"{base}/api/v1/interactions/", json=body, headers=headers)

    return request


def api_list(base: str, key: str, pages: int):
    headers = {"Authorization": f"Bearer {key}"}
    first = f"{base}/api/v1/interactions/?status=queued"

    async def request(client: httpx.AsyncClient, state: dict) -> httpx.Response:
        url = state.get("next") if state.get("page", 0) < pages else None
        response = await client.get(url or first, headers=headers)
        state["page"] = state.get("page", 0) + 1 if url else 1
        state["next"] = response.json().get("next") if response.status_code == 200 else None
        return response

    return request


def ceiling_ingest(base: str):
    async def request(client: httpx.AsyncClient, state: dict) -> httpx.Response:
        body = {"channel": state["rng"].choice(CHANNELS), "subject": "Benchmark contact", "body": "Hello"}
        return await client.post(f"{base}/ingest", json=body)

    return request


def ceiling_list(base: str):
    async def request(client: httpx.AsyncClient, state: dict) -> httpx.Response:
        return await client.get(f"{base}/list")

    return request


def report(results: list[Result]) -> None:
    _log(f"\n{'phase':<44} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for r in results:
        _log(
            f"{r.label:<44} {r.requests:>9} {r.rate:>8.1f} {r.percentile(50):>8.1f} {r.percentile(99):>8.1f} {r.errors:>7}"
        )
        for sample in r.error_samples:
            _log(f"    e.g. {sample}")
    by_label = {r.label: r for r in results}
    pairs = (("API POST /interactions/", "ceiling POST /ingest"), ("API GET ?status=queued", "ceiling GET /list"))
    for api, ceiling in pairs:
        if api in by_label and ceiling in by_label and by_label[ceiling].rate:
            _log(f"{api} / {ceiling}: {by_label[api].rate / by_label[ceiling].rate:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    _db.add_arguments(parser, default=DEFAULT_DATABASE, keep=True)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"))
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--regenerate", action="store_true", help="rebuild the data even if it is there")
    parser.add_argument("--generate-only", action="store_true")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--pool-size", type=int, default=16, help="database connections per worker")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent client requests")
    parser.add_argument("--duration", type=float, default=20, help="seconds per phase")
    parser.add_argument("--pages", type=int, default=5, help="list pages followed by 'next' before starting over")
    parser.add_argument("--port", type=int, default=8765, help="API port; the ceiling uses the next one")
    parser.add_argument("--skip-ceiling", action="store_true")
    args = parser.parse_args()
    args.database_url = _db.prepare(args.database)
    try:
        run(args)
    finally:
        _db.finish(args.database_url, keep=args.keep_database)


def run(args) -> None:
    env = server_env(args)
    prepare_database(
        args.database_url,
        interactions=args.interactions,
        customers=args.customers,
        regenerate=args.regenerate,
        env=env,
    )
    if args.generate_only:
        return
    key = manage("create_api_key", "--name", f"bench {uuid.uuid4().hex[:6]}", "--scopes", "read,write", env=env)
    key = key.splitlines()[0].strip()

    results = []
    _log(f"\nAPI: {args.workers} workers, {args.concurrency} clients, {args.duration:.0f} s per phase")
    with uvicorn("config.asgi:application", port=args.port, workers=args.workers, env=env) as base:
        for label, request in (
            ("API POST /interactions/", api_ingest(base, key, args.customers)),
            ("API GET ?status=queued", api_list(base, key, args.pages)),
        ):
            results.append(
                asyncio.run(drive(label, duration=args.duration, concurrency=args.concurrency, request=request))
            )
            _log(f"  {label}: {results[-1].rate:.1f} req/s")
    if not args.skip_ceiling:
        with uvicorn("bench.ceiling_app:application", port=args.port + 1, workers=args.workers, env=env) as base:
            for label, request in (
                ("ceiling POST /ingest", ceiling_ingest(base)),
                ("ceiling GET /list", ceiling_list(base)),
            ):
                results.append(
                    asyncio.run(drive(label, duration=args.duration, concurrency=args.concurrency, request=request))
                )
                _log(f"  {label}: {results[-1].rate:.1f} req/s")
    report(results)


if __name__ == "__main__":
    main()
