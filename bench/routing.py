"""Routing benchmark (issue 3): throughput of the router, latency of one decision, websocket fan-out.

Usage (from the repository root, PostgreSQL and Redis running):

    .venv/bin/python bench/routing.py                          # every phase, default sizes
    .venv/bin/python bench/routing.py --phases throughput --processes 1,4
    .venv/bin/python bench/routing.py --phases decision --decisions 2000
    .venv/bin/python bench/routing.py --phases fanout --consoles 200 --fanout-assignments 300

The database (``--database``, default ``bench_routing``; see ``bench/_db.py``: only a ``bench_*`` database, on
``DATABASE_URL``'s server, kept after the run unless ``--drop-database``) is created if
missing and ``migrate``d; every phase then truncates and rebuilds its own data by ``INSERT … SELECT
generate_series`` (nothing carries over between phases). The reference data: ``--agents`` agents (500), all
available and active, each with chat and email capacity ``--capacity`` (40, so every queued interaction can be
routed), ``--skills`` skills (40), ``--queues`` queues (20) each requiring two skills; an agent holds both skills of
a queue for 2 queues in 5, at levels 1–5, so a queue is served by about a quarter of the agents.

Phases:

1. ``throughput``: ``--queued`` (10,000) queued chat and email interactions over all queues, priorities 1–4, waiting
   up to an hour; for each count in ``--processes`` (1 and 4) the data is rebuilt and that many processes
   (multiprocessing, started before the clock) call ``route_pending`` in a loop until it returns 0. Reported: wall
   time from the common start to the last process done, assignments/s, and the checks (everything assigned, one
   assignment event per interaction, no agent over capacity on a channel, every required skill held).
2. ``decision``: ``--history`` (100,000) interactions in the table, ``--queued`` of them queued, the rest closed
   history spread over the agents; ``--decisions`` single ``route_next()`` calls, each timed: p50, p99, max; and
   per decision on average: statements, time waiting for PostgreSQL (round trips included), the router
   process's CPU time and its PostgreSQL backend's (from ``/proc``, so a local server): load-independent figures,
   where the wall-clock ones follow the machine's load.
3. ``fanout``: a uvicorn server (``config.asgi:application``, production settings, this database, ``--redis-url``)
   and ``--consoles`` (200) agents, each logged in (a session row) and connected to ``/ws/console/``; then
   ``--fanout-assignments`` interactions are routed one at a time by ``route_next()`` at ``--fanout-rate`` per second.
   Each commit is timestamped (an ``on_commit`` hook); the clients (another process) timestamp every frame.
   Reported: commit → ``interaction.assigned`` on the owner's console, and commit → ``queue.stats`` on the other
   consoles serving that queue (matched by queue and waiting count), p50/p99/max and how many frames were missed.

Every figure is printed in one table at the end with the machine's load average. Not part of the test suite.
``--no-events`` disconnects the websocket publisher (``crm.live.receivers``) in the routers, to time the router alone;
``--proposed-index`` creates the index the router wants for "idle since the last assignment" (see
``PROPOSED_INDEX``; without the flag it is dropped, unless a migration made it); ``--router PATH`` times another
version of ``crm/routing/services/router.py`` (e.g. the one before a change) against the same data.
"""

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _db  # noqa: E402  (bench/_db.py: the benchmark's own database)
from api_ingest import manage, uvicorn  # noqa: E402  (the sibling benchmark's helpers)

PYTHON = sys.executable
DEFAULT_DATABASE = "bench_routing"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/5"
BENCH_SECRET_KEY = "bench-secret-key-not-for-production-" + "x" * 32  # noqa: S105  (a local benchmark server)
PHASES = ("throughput", "decision", "fanout")


def _log(message: str) -> None:
    print(message, flush=True)


def _load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def _percentile(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


@dataclass
class Row:
    """One line of the final table."""

    phase: str
    figures: dict[str, str] = field(default_factory=dict)
    checks: list[str] = field(default_factory=list)
    load: str = ""


# --- environment and database ----------------------------------------------------------------------


def bench_env(args) -> dict[str, str]:
    """Production settings against the bench database and Redis db (the same for server and routers)."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DEBUG": "false",
        "SECRET_KEY": BENCH_SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "DATABASE_POOL_MAX_SIZE": "4",
        "DATABASE_POOL_MIN_SIZE": "1",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        "PYTHONWARNINGS": "ignore:No directory at",
    }


def reset_data(url: str, args, *, queued: int, history: int = 0, agents: int | None = None) -> None:
    """Empty the tables and build the reference data, ``queued`` waiting interactions and ``history`` closed ones.

    Written with the ORM's ``bulk_create`` (so columns added later get their model defaults), in one
    transaction, ids restarting at 1. Deterministic: the same arguments give the same rows, so before/after
    figures compare like with like.
    """
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from agents.models import Agent, AgentSkill, Skill, Team
    from contacts.models import Customer
    from crm.interactions.models import Interaction
    from crm.routing.models import Queue, QueueSkill

    agents = agents or args.agents
    started = time.monotonic()
    now = timezone.now()
    batch = 5000
    _db.assert_scratch(connection.settings_dict["NAME"])
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("SET LOCAL synchronous_commit = off")
            cur.execute(
                "TRUNCATE crm_interaction, crm_interactionevent, agents_agent, agents_agentskill,"
                " agents_agentstatuslog, agents_skill, crm_queue, crm_queueskill, agents_team, contacts_customer,"
                " contacts_contactidentity, django_session, auth_user RESTART IDENTITY CASCADE"
            )
        team = Team.objects.create(name="Bench")
        skills = Skill.objects.bulk_create(Skill(name=f"Skill {n}") for n in range(1, args.skills + 1))
        queues = Queue.objects.bulk_create(
            Queue(name=f"Queue {n}", channels=["chat", "email"], priority=1 + n % 10, team=team)
            for n in range(1, args.queues + 1)
        )
        # queue q needs the skill pair (2q, 2q + 1) (modulo the skill count), the first at level 1-3
        QueueSkill.objects.bulk_create(
            QueueSkill(
                queue=queue,
                skill=skills[(2 * q + k) % args.skills],
                min_level=1 + (q + 1) % 3 if k == 0 else 1,
            )
            for q, queue in enumerate(queues)
            for k in (0, 1)
        )
        users = get_user_model().objects.bulk_create(
            get_user_model()(username=f"bench-agent-{n}", first_name="Agent", last_name=str(n), password="!")  # noqa: S106  (unusable)
            for n in range(1, agents + 1)
        )
        capacity = {"voice": 1, "chat": args.capacity, "email": args.capacity}
        agent_rows = Agent.objects.bulk_create(
            Agent(
                user=user,
                name=f"Agent {n}",
                team=team,
                capacity=capacity,
                status="available",
                status_changed_at=now - timedelta(seconds=(n * 37) % 3600),
            )
            for n, user in enumerate(users, start=1)
        )
        # agent a holds the pair p (skills 2p, 2p + 1) when (p + a) mod 5 is 0 or 1: 2 pairs in 5
        AgentSkill.objects.bulk_create(
            (
                AgentSkill(agent=agent, skill=skill, level=1 + (7 * a + 3 * s) % 5)
                for a, agent in enumerate(agent_rows, start=1)
                for s, skill in enumerate(skills, start=1)
                if ((s - 1) // 2 + a) % 5 in (0, 1)
            ),
            batch_size=batch,
        )
        customers = Customer.objects.bulk_create(
            (Customer(name=f"Bench Customer {n}", email=f"bench{n}@example.com") for n in range(1, 2001)),
            batch_size=batch,
        )
        Interaction.objects.bulk_create(
            (
                Interaction(
                    customer=customers[g % 2000],
                    channel=("chat", "email")[g % 2],
                    queue=queues[g % args.queues],
                    subject=f"History {g}",
                    status="closed",
                    agent=agent_rows[(g * 7) % agents],
                    disposition="Resolved",
                    category="Bench",
                    created_at=(t := now - timedelta(days=2, seconds=g * 60)),
                    queued_at=t,
                    assigned_at=t + timedelta(seconds=20),
                    accepted_at=t + timedelta(seconds=25),
                    first_response_at=t + timedelta(seconds=40),
                    resolved_at=t + timedelta(seconds=400),
                    closed_at=t + timedelta(days=1),
                    talk_seconds=360,
                    wrap_up_seconds=35,
                )
                for g in range(1, history + 1)
            ),
            batch_size=batch,
        )
        Interaction.objects.bulk_create(
            (
                Interaction(
                    customer=customers[g % 2000],
                    channel=("chat", "email")[(g // 3) % 2],
                    queue=queues[(g * 13) % args.queues],
                    subject=f"Waiting {g}",
                    status="queued",
                    priority=(1, 2, 2, 2, 3, 4)[(g * 7) % 6],
                    created_at=(t := now - timedelta(seconds=(g * 7919) % 3600)),
                    queued_at=t,
                )
                for g in range(1, queued + 1)
            ),
            batch_size=batch,
        )
    proposed_index(url, wanted=args.proposed_index)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    _log(f"  data: {queued:,} queued, {history:,} history, {agents} agents ({time.monotonic() - started:.1f} s)")


# The index this benchmark proposes for the router's "idle since the last assignment" (a migration for the lead):
# without it each decision reads every past interaction of every candidate agent.
PROPOSED_INDEX = ("interaction_agent_assigned", "(agent_id, assigned_at DESC) WHERE assigned_at IS NOT NULL")


def proposed_index(url: str, *, wanted: bool) -> str:
    """Create (or drop) the proposed index in the bench database, unless a migration already made it."""
    from crm.interactions.models import Interaction

    name, definition = PROPOSED_INDEX
    if any(index.name == name for index in Interaction._meta.indexes):
        return "index from migration"
    with psycopg.connect(url, autocommit=True) as conn:
        if wanted:
            conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON crm_interaction {definition}")
        else:
            conn.execute(f"DROP INDEX IF EXISTS {name}")
    return "with proposed index" if wanted else "without proposed index"


def verify(url: str) -> tuple[int, list[str]]:
    """(assigned count, list of broken rules) straight from the database."""
    problems = []
    with psycopg.connect(url) as conn:
        assigned = conn.execute("SELECT count(*) FROM crm_interaction WHERE status = 'assigned'").fetchone()[0]
        twice = conn.execute(
            "SELECT count(*) FROM (SELECT interaction_id FROM crm_interactionevent WHERE kind = 'assigned'"
            " GROUP BY interaction_id HAVING count(*) > 1) t"
        ).fetchone()[0]
        events = conn.execute("SELECT count(*) FROM crm_interactionevent WHERE kind = 'assigned'").fetchone()[0]
        over = conn.execute(
            """
            SELECT count(*) FROM (
                SELECT i.agent_id, i.channel, count(*) AS n, max((a.capacity ->> i.channel)::int) AS cap
                FROM crm_interaction i JOIN agents_agent a ON a.id = i.agent_id
                WHERE i.status IN ('assigned', 'active', 'on_hold', 'wrap_up')
                GROUP BY i.agent_id, i.channel) t
            WHERE n > coalesce(cap, 0)
            """
        ).fetchone()[0]
        unskilled = conn.execute(
            """
            SELECT count(*) FROM crm_interaction i JOIN crm_queueskill qs ON qs.queue_id = i.queue_id
            LEFT JOIN agents_agentskill s ON s.agent_id = i.agent_id AND s.skill_id = qs.skill_id
            WHERE i.status = 'assigned' AND coalesce(s.level, 0) < qs.min_level
            """
        ).fetchone()[0]
    if twice:
        problems.append(f"{twice} interactions assigned twice")
    if events != assigned:
        problems.append(f"{events} assignment events for {assigned} assigned")
    if over:
        problems.append(f"{over} agent/channel pairs over capacity")
    if unskilled:
        problems.append(f"{unskilled} assignments missing a required skill")
    return assigned, problems


# --- routers in processes ------------------------------------------------------------------------------


def _django(env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()


def _routing_module(path: str | None, events: bool):
    """The router under test: ``crm.routing.services.router``, or another version of that module loaded from
    ``path`` (to measure before/after in one checkout; it plans with ``crm.routing.services.planner`` as it
    imports it). Without ``events`` the websocket publisher is disconnected, which leaves the router's own cost."""
    import importlib
    import importlib.util

    if not events:
        from crm.interactions.models import Interaction
        from crm.interactions.signals import interaction_changed

        interaction_changed.disconnect(sender=Interaction, dispatch_uid="crm.events.publish_interaction_changed")
    if not path:
        return importlib.import_module("crm.routing.services.router")
    spec = importlib.util.spec_from_file_location("crm.routing.services.router_under_test", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _router(env: dict[str, str], barrier, results, limit: int, router: str | None, events: bool) -> None:
    _django(env)
    from django.db import connection

    from config.heap import freeze_loaded_project

    route_pending = _routing_module(router, events).route_pending

    connection.ensure_connection()
    freeze_loaded_project()  # as a Celery worker process does once it is up (config.celery)
    barrier.wait()
    started = time.monotonic()
    routed = calls = 0
    while True:
        calls += 1
        n = route_pending(limit=limit)
        routed += n
        if n == 0:
            break
    results.put((started, time.monotonic(), routed, calls))
    connection.close()


def phase_throughput(args, env) -> list[Row]:
    rows = []
    ctx = mp.get_context("spawn")
    for processes in args.processes:
        _log(f"throughput, {processes} process(es):")
        reset_data(args.database_url, args, queued=args.queued)
        barrier, results = ctx.Barrier(processes), ctx.Queue()
        workers = [
            ctx.Process(target=_router, args=(env, barrier, results, args.limit, args.router, args.events))
            for _ in range(processes)
        ]
        load = _load()
        for worker in workers:
            worker.start()
        outcomes = [results.get(timeout=3600) for _ in workers]
        for worker in workers:
            worker.join()
        seconds = max(o[1] for o in outcomes) - min(o[0] for o in outcomes)
        routed = sum(o[2] for o in outcomes)
        assigned, problems = verify(args.database_url)
        if assigned < args.queued:
            problems.append(f"{args.queued - assigned} left queued")
        _log(f"  {routed:,} routed in {seconds:.2f} s: {routed / seconds:,.0f}/s  {problems or 'checks ok'}")
        rows.append(
            Row(
                f"route {args.queued:,}, {processes} proc{'' if args.events else ', no events'}",
                {
                    "seconds": f"{seconds:.2f}",
                    "assign/s": f"{routed / seconds:,.0f}",
                    "per proc": " ".join(str(o[2]) for o in outcomes),
                },
                problems,
                load,
            )
        )
    return rows


def _backend_cpu(pid: int):
    """A clock of the CPU time PostgreSQL's backend ``pid`` has used (NaN when its /proc entry is not readable)."""
    tick = os.sysconf("SC_CLK_TCK")

    def seconds() -> float:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:  # another machine, or not allowed
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / tick  # utime + stime

    return seconds


def _decider(env: dict[str, str], decisions: int, results, router: str | None, events: bool) -> None:
    _django(env)
    from django.db import connection

    from config.heap import freeze_loaded_project

    route_next = _routing_module(router, events).route_next

    connection.ensure_connection()
    route_next()  # warm: imports, prepared plans, connection
    freeze_loaded_project()  # as a Celery worker process does once it is up (config.celery)
    statements = [0, 0.0]  # count, seconds waiting for PostgreSQL (round trips included)

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements[0] += 1
            statements[1] += time.perf_counter() - started

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = _backend_cpu(cursor.fetchone()[0])
    timings, missed = [], 0
    cpu, backend_cpu = time.process_time(), backend()
    with connection.execute_wrapper(timed):
        for _ in range(decisions):
            started = time.perf_counter()
            assigned = route_next()
            timings.append(time.perf_counter() - started)
            missed += assigned is None
    cpu, backend_cpu = time.process_time() - cpu, backend() - backend_cpu
    results.put(
        (
            timings,
            missed,
            statements[0] / decisions,
            statements[1] / decisions,
            cpu / decisions,
            backend_cpu / decisions,
        )
    )
    connection.close()


def phase_decision(args, env) -> list[Row]:
    _log(f"decision, {args.history:,} interactions in the table:")
    reset_data(args.database_url, args, queued=args.queued, history=args.history - args.queued)
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    load = _load()
    worker = ctx.Process(target=_decider, args=(env, args.decisions, results, args.router, args.events))
    worker.start()
    timings, missed, per_decision, db_seconds, cpu_seconds, backend_seconds = results.get(timeout=3600)
    worker.join()
    ms = [t * 1000 for t in timings]
    _, problems = verify(args.database_url)
    if missed:
        problems.append(f"{missed} decisions assigned nothing")
    figures = {
        "p50 ms": f"{_percentile(ms, 50):.2f}",
        "p99 ms": f"{_percentile(ms, 99):.2f}",
        "max ms": f"{max(ms):.2f}",
        "n": str(len(ms)),
        "stmts": f"{per_decision:.1f}",
        "db ms": f"{db_seconds * 1000:.2f}",
        "cpu ms": f"{cpu_seconds * 1000:.2f}",
        "pg cpu ms": f"{backend_seconds * 1000:.2f}",
    }
    _log(f"  {figures}  {problems or 'checks ok'}")
    label = f"route_next, {args.history:,} in table{'' if args.events else ', no events'}"
    return [Row(label, figures, problems, load)]


# --- websocket fan-out ------------------------------------------------------------------------------------


def _consoles(host: str, sessions: list[tuple[int, str]], ready, stop, results) -> None:
    """Connect one websocket per (agent id, session key); timestamp every event frame until ``stop`` is set."""
    from websockets.asyncio.client import connect

    frames: list[tuple[int, float, str, dict]] = []  # (agent id, received at, event, data)
    failures: list[str] = []

    async def console(agent_id: int, session_key: str, connected: asyncio.Event) -> None:
        try:
            async with connect(
                f"ws://{host}/ws/console/",
                origin=f"http://{host}",
                additional_headers={"Cookie": f"sessionid={session_key}"},
                open_timeout=60,
                max_queue=None,
            ) as ws:
                first = json.loads(await asyncio.wait_for(ws.recv(), timeout=60))
                if first.get("type") != "snapshot":
                    failures.append(f"agent {agent_id}: first frame {first.get('type')}")
                connected.set()
                async for text in ws:
                    received = time.time()
                    frame = json.loads(text)
                    if frame.get("type") == "event":
                        frames.append((agent_id, received, frame["event"], frame["data"]))
        except Exception as exc:  # noqa: BLE001  (reported in the table)
            late = " after stop" if stop.is_set() else ""
            failures.append(f"agent {agent_id}{late}: {type(exc).__name__}: {exc}")
            connected.set()

    async def main() -> None:
        events = [asyncio.Event() for _ in sessions]
        tasks = []
        for (agent_id, key), connected in zip(sessions, events, strict=True):
            tasks.append(asyncio.create_task(console(agent_id, key, connected)))
            await asyncio.sleep(0.005)  # a login storm is not what is measured
        await asyncio.gather(*(e.wait() for e in events))
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # late frames
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(main())
    results.put((frames, failures))


def _sessions(count: int) -> list[tuple[int, str]]:
    """A logged-in session for each of the first ``count`` agents (as ``login()`` would store it)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from agents.models import Agent

    sessions = []
    for agent in Agent.objects.select_related("user").order_by("pk")[:count]:
        store = SessionStore()
        store[SESSION_KEY] = str(agent.user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = agent.user.get_session_auth_hash()
        store.create()
        sessions.append((agent.pk, store.session_key))
    return sessions


def phase_fanout(args, env) -> list[Row]:
    _log(f"fan-out, {args.consoles} consoles:")
    if not (ROOT / "crm" / "live" / "consumers.py").exists():
        _log("  crm/live/consumers.py does not exist yet: phase skipped")
        return [Row("fan-out", {}, ["skipped: crm/live/consumers.py missing"], _load())]
    # only the connected agents are available, so every assignment goes to a console that is watching
    reset_data(args.database_url, args, queued=args.fanout_assignments + 50, agents=args.consoles)
    from django.db import transaction

    from crm.routing.models import QueueSkill
    from crm.routing.services.router import route_next

    sessions = _sessions(args.consoles)
    ctx = mp.get_context("spawn")
    ready, stop, results = ctx.Event(), ctx.Event(), ctx.Queue()
    commits: list[tuple[int, int, int, float]] = []  # (interaction id, owner, queue, committed at)
    with uvicorn("config.asgi:application", port=args.port, workers=1, env=env) as base:
        host = base.removeprefix("http://")
        clients = ctx.Process(target=_consoles, args=(host, sessions, ready, stop, results))
        clients.start()
        if not ready.wait(timeout=300):
            stop.set()
            raise SystemExit("the consoles did not connect within 300 s")
        time.sleep(1.0)
        load = _load()
        interval = 1.0 / args.fanout_rate
        next_at = time.monotonic()
        for _ in range(args.fanout_assignments):
            stamp: list[float] = []
            with transaction.atomic():
                # registered first, so it runs first after the commit: before the publisher's own hook
                transaction.on_commit(lambda stamp=stamp: stamp.append(time.time()))
                assigned = route_next()
            if assigned is None:
                break
            commits.append((assigned.pk, assigned.agent_id, assigned.queue_id, stamp[0]))
            next_at += interval
            time.sleep(max(0.0, next_at - time.monotonic()))
        time.sleep(2.0)
        stop.set()
        frames, failures = results.get(timeout=120)
        clients.join()

    # who serves which queue: holds every required skill at its minimum level (the consoles' queue stats)
    from agents.models import AgentSkill

    levels = {(s.agent_id, s.skill_id): s.level for s in AgentSkill.objects.all()}
    needs: dict[int, list[tuple[int, int]]] = {}
    for qs in QueueSkill.objects.all():
        needs.setdefault(qs.queue_id, []).append((qs.skill_id, qs.min_level))
    connected = [agent_id for agent_id, _ in sessions]
    serving = {
        queue_id: {a for a in connected if all(levels.get((a, s), 0) >= m for s, m in skills)}
        for queue_id, skills in needs.items()
    }
    assigned_at = {interaction_id: (owner, committed) for interaction_id, owner, _, committed in commits}
    owner_latency, owner_missed = [], 0
    received = {
        (agent_id, data.get("id")): at for agent_id, at, event, data in frames if event == "interaction.assigned"
    }
    for interaction_id, (owner, committed) in assigned_at.items():
        at = received.get((owner, interaction_id))
        if at is None:
            owner_missed += 1
        else:
            owner_latency.append((at - committed) * 1000)
    # queue.stats: the assignment that left ``waiting`` = w in queue q is the one the frame reports
    waiting: dict[int, int] = {}
    stats_key: dict[tuple[int, int], tuple[int, float]] = {}
    with psycopg.connect(args.database_url) as conn:
        remaining = dict(
            conn.execute(
                "SELECT queue_id, count(*) FROM crm_interaction WHERE status = 'queued' GROUP BY queue_id"
            ).fetchall()
        )
    for _, owner, queue_id, committed in reversed(commits):
        left = waiting.get(queue_id, remaining.get(queue_id, 0))
        stats_key[(queue_id, left)] = (owner, committed)
        waiting[queue_id] = left + 1
    stats_frames = {}
    for agent_id, at, event, data in frames:
        if event == "queue.stats":
            stats_frames.setdefault((agent_id, data.get("id"), data.get("waiting")), at)
    stats_latency, stats_missed = [], 0
    for (queue_id, left), (owner, committed) in stats_key.items():
        for agent_id in serving.get(queue_id, ()):
            if agent_id == owner:
                continue
            at = stats_frames.get((agent_id, queue_id, left))
            if at is None:
                stats_missed += 1
            else:
                stats_latency.append((at - committed) * 1000)
    problems = failures[:3] + ([f"{len(failures)} console failures"] if len(failures) > 3 else [])
    rows = []
    for label, latencies, missed in (
        ("fan-out interaction.assigned (owner)", owner_latency, owner_missed),
        ("fan-out queue.stats (others)", stats_latency, stats_missed),
    ):
        figures = {
            "p50 ms": f"{_percentile(latencies, 50):.1f}",
            "p99 ms": f"{_percentile(latencies, 99):.1f}",
            "max ms": f"{max(latencies, default=float('nan')):.1f}",
            "frames": str(len(latencies)),
            "missed": str(missed),
        }
        _log(f"  {label}: {figures}")
        rows.append(Row(label, figures, problems, load))
    return rows


# --- main -------------------------------------------------------------------------------------------------


def report(rows: list[Row], args) -> None:
    _log(
        f"\nrouting benchmark: {args.agents} agents, {args.skills} skills, {args.queues} queues, {os.cpu_count()} cpus;"
        f" router {args.router or 'crm/routing/services/router.py'}; proposed index {'on' if args.proposed_index else 'off'}"
    )
    _log(f"{'phase':<40} {'figures':<58} {'at start':<22} checks")
    for row in rows:
        figures = "  ".join(f"{k} {v}" for k, v in row.figures.items())
        _log(f"{row.phase:<40} {figures:<58} {row.load:<22} {'; '.join(row.checks) or 'ok'}")
    _log(f"after: {_load()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    _db.add_arguments(parser, default=DEFAULT_DATABASE, keep=True)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--recreate", action="store_true", help="drop and recreate the database first")
    parser.add_argument("--phases", default=",".join(PHASES), help=f"comma-separated, of {', '.join(PHASES)}")
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--skills", type=int, default=40)
    parser.add_argument("--queues", type=int, default=20)
    parser.add_argument("--capacity", type=int, default=40, help="each agent's chat and email capacity")
    parser.add_argument("--queued", type=int, default=10_000, help="queued interactions to route")
    parser.add_argument("--processes", default="1,4", help="router process counts, comma-separated")
    parser.add_argument("--limit", type=int, default=100, help="route_pending(limit=...) per call")
    parser.add_argument("--history", type=int, default=100_000, help="interactions in the table (decision phase)")
    parser.add_argument("--decisions", type=int, default=2000, help="route_next() calls timed")
    parser.add_argument(
        "--no-events",
        dest="events",
        action="store_false",
        help="throughput/decision: disconnect the websocket publisher (crm.live) to time the router alone",
    )
    parser.add_argument(
        "--proposed-index",
        action="store_true",
        help=f"create the index {PROPOSED_INDEX[0]} on crm_interaction {PROPOSED_INDEX[1]} (else it is dropped)",
    )
    parser.add_argument(
        "--router", help="throughput/decision: path of another version of crm/routing/services/router.py"
    )
    parser.add_argument("--consoles", type=int, default=200)
    parser.add_argument("--fanout-assignments", type=int, default=300)
    parser.add_argument("--fanout-rate", type=float, default=20.0, help="assignments per second")
    parser.add_argument("--port", type=int, default=8795)
    args = parser.parse_args()
    args.processes = [int(p) for p in args.processes.split(",")]
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    if unknown := set(phases) - set(PHASES):
        parser.error(f"unknown phase(s): {', '.join(sorted(unknown))}")

    args.database_url = _db.prepare(args.database, recreate=args.recreate)
    try:
        run(args, phases)
    finally:
        _db.finish(args.database_url, keep=args.keep_database)


def run(args, phases: list[str]) -> None:
    env = bench_env(args)
    started = time.monotonic()
    manage("migrate", "--noinput", env=env)
    _log(f"migrate: {time.monotonic() - started:.1f} s; {_load()}")
    _django(env)  # the data is written with the ORM from this process; the routers run in their own
    rows: list[Row] = []
    for phase in phases:
        rows += {"throughput": phase_throughput, "decision": phase_decision, "fanout": phase_fanout}[phase](args, env)
    report(rows, args)


if __name__ == "__main__":
    main()
