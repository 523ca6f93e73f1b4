"""Chat widget benchmark: many visitors' sockets writing while agents answer, measured end to end.

Usage (from the repository root, PostgreSQL and Redis running):

    .venv/bin/python bench/widget.py                              # 500 visitors, 50 agents, a message every 5 s
    .venv/bin/python bench/widget.py --visitors 100 --seconds 20  # smaller

What it does:

1. Database (``--database``, default ``bench_widget``; ``bench/_db.py``): only a ``bench_*`` database, created for
   the run and dropped at the end. A team, a chat queue that auto-accepts, ``--agents`` available agents (chat
   capacity for all the visitors), a chat inbox whose ``allowed_origins`` is the bench's page, a write API key.
2. Switchboard under uvicorn (``--workers``, default 4 as the README's ws role on 2 cores; production settings, the
   widget's per-address limit lifted: every visitor comes from 127.0.0.1), the API under granian (``--web``, default
   ``granian`` with ``--web-workers`` processes, as the README's web role; ``same``: the uvicorn serves it too) and
   a real Celery worker (routing, the reply outbox).
3. Each agent's console socket (``/ws/console/``, a real session). Each visitor's widget socket
   (``/ws/widget/<public key>/``, ``Origin`` of the page): ``hello``, then a first message; routing gives every
   conversation to an agent before anything is timed.
4. Timed for ``--seconds``: every visitor writes a message every ``--interval`` seconds (jittered). Visitor → agent:
   from sending to the ``message.created`` event on the console of the agent holding the conversation. Each time an
   agent's console hears a message, the agent answers it through the API (``POST /api/v1/interactions/{id}/messages/``,
   as the console's reply does: the delivery outbox, the chat adapter). Agent → visitor: from that POST to the
   visitor's socket receiving the reply.
5. Prints the p50/p99 of both, messages lost or received twice, and the server's CPU (uvicorn, granian and Celery
   processes, from ``/proc``, each role's part apart) per 1,000 messages (both directions). Aim: p99 < 200 ms with
   nothing lost or doubled. Also the snapshots sockets were sent after their first (a hole in their events: what a
   console heard by a snapshot is not timed, and its agent does not answer it), the driver's own CPU (it must not be
   the bottleneck) and the load average: other processes on the machine make the figures worse. A conversation's first
   message opens it: its console hears the offer, not the message, so "heard by a console" is one less per visitor.
6. The ceiling, in the same run (``--skip-ceiling`` leaves it out): the same driver against
   ``bench/widget_ceiling_app.py`` on the same servers (uvicorn ×``--workers``, granian ×``--web-workers``), Channels
   with the plain ``channels_redis`` layer, one bare INSERT and one group send per message, nothing else. The table
   has a row for each: what Switchboard costs beyond the ceiling is its own work, and a load the ceiling itself cannot
   carry with p99 < 200 ms is beyond the machine.

``bench/widget_hops.py`` measures the same path in one process, without sockets: SQL statements, Redis round trips
and CPU per message on each hop.

Run at a tiny size by ``tests/bench/test_widget_benches.py`` (its figures are not asserted there).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _db  # noqa: E402
from api_ingest import PYTHON, manage, server_env, uvicorn  # noqa: E402
from create_vs_helpdesk import granian  # noqa: E402
from email_ingest import celery_worker  # noqa: E402

DEFAULT_DATABASE = "bench_widget"
PAGE = "http://bench-shop.example"


def _log(message: str) -> None:
    print(message, flush=True)


def make_center(*, agents: int, visitors: int):
    """Team, auto-accepting chat queue, agents with sessions, the chat inbox, an API key (Django set up)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib import auth
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from agents.choices import AgentStatus
    from agents.models import Agent, Team
    from crm.access.services.api_keys import api_key_create
    from crm.inboxes.services.inboxes import inbox_create
    from crm.routing.models import Queue

    team = Team.objects.create(name="Bench chat")
    queue = Queue.objects.create(
        name="Bench chat", channels=["chat"], team=team, auto_accept=True, surveys_enabled=False
    )
    capacity = visitors // agents + 2
    sessions = []
    store = import_module(settings.SESSION_ENGINE).SessionStore
    for n in range(agents):
        user = get_user_model().objects.create_user(username=f"bench-agent-{n}", password=uuid.uuid4().hex)
        Agent.objects.create(user=user, name=f"Agent {n}", team=team, capacity={"chat": capacity},
                             status=AgentStatus.AVAILABLE, status_changed_at=timezone.now())  # fmt: skip
        session = store()
        session[auth.SESSION_KEY] = str(user.pk)
        session[auth.BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]  # the model backend, after axes
        session[auth.HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.save()
        sessions.append(session.session_key)
    inbox = inbox_create(name="Bench widget", channel="chat", queue=queue, settings={"allowed_origins": [PAGE]})
    _, raw_key = api_key_create(name="bench agents", scopes=["read", "write"])
    return inbox.settings["public_key"], sessions, raw_key, queue.pk


class Tally:
    def __init__(self) -> None:
        self.to_agent: list[float] = []
        self.to_visitor: list[float] = []
        self.sent_by_visitor: dict[str, float] = {}  # body -> when sent
        self.seen_by_agent: set[int] = set()  # message ids heard by consoles
        self.replies: dict[str, float] = {}  # reply body -> when posted
        self.replies_seen: dict[str, int] = {}
        self.duplicates = 0
        self.snapshots = {"console": 0, "widget": 0}  # snapshots after the first: a hole or a resync
        self.timing = False
        self.quiet = False  # the window is over: visitors stop writing, so every reply has time to arrive


async def agent(
    base: str, api: str, session_key: str, api_key: str, tally: Tally, pending: dict[int, float], stop: asyncio.Event
):
    """One agent's console: hears new messages on their conversations (on ``base``) and answers each through the API
    (on ``api``: the web role, or the same server)."""
    headers = {"Cookie": f"sessionid={session_key}", "Origin": base}
    url = base.replace("http", "ws") + "/ws/console/"
    async with (
        connect(url, additional_headers=headers, open_timeout=30, max_size=None) as ws,
        httpx.AsyncClient(base_url=api, headers={"Authorization": f"Bearer {api_key}"}, timeout=30) as http,
    ):
        while not stop.is_set():
            try:
                frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=1))
            except TimeoutError:
                continue
            if frame.get("type") == "snapshot":
                tally.snapshots["console"] += 1
            elif frame.get("type") == "event" and frame.get("event") == "message.created":
                data = frame["data"]
                if data["message"] in tally.seen_by_agent:
                    tally.duplicates += 1
                    continue
                tally.seen_by_agent.add(data["message"])
                sent = pending.pop(data["interaction"], None)
                if sent is not None and tally.timing:
                    tally.to_agent.append(time.perf_counter() - sent)
                body = f"reply-{uuid.uuid4().hex[:12]}"
                tally.replies[body] = time.perf_counter()
                await http.post(f"/api/v1/interactions/{data['interaction']}/messages/",
                                json={"direction": "outbound", "body": body})  # fmt: skip
            elif frame.get("type") == "ping":
                await ws.send(json.dumps({"type": "pong"}))


async def visitor(base: str, key: str, number: int, tally: Tally, pending: dict[int, float], conversations: dict,
                  stop: asyncio.Event, interval: float):  # fmt: skip
    url = base.replace("http", "ws") + f"/ws/widget/{key}/"
    async with connect(url, additional_headers={"Origin": PAGE}, open_timeout=60, max_size=None) as ws:
        await ws.send(json.dumps({"type": "hello", "token": None, "profile": {"name": f"Visitor {number}"}}))
        conversation = None

        async def reader():
            nonlocal conversation
            async for raw in ws:
                frame = json.loads(raw)
                if frame.get("type") == "snapshot":
                    tally.snapshots["widget"] += 1
                    conversation = frame["data"].get("conversation") or conversation
                elif frame.get("type") == "event" and frame.get("event") == "message":
                    data = frame["data"]
                    body = data.get("body", "")
                    if data.get("from") == "agent" and body in tally.replies:
                        tally.replies_seen[body] = tally.replies_seen.get(body, 0) + 1
                        if tally.replies_seen[body] == 1 and tally.timing:
                            tally.to_visitor.append(time.perf_counter() - tally.replies[body])
                        elif tally.replies_seen[body] > 1:
                            tally.duplicates += 1
                elif (
                    frame.get("type") == "event"
                    and frame.get("event") == "status"
                    and frame["data"].get("conversation")
                ):
                    conversation = frame["data"]["conversation"]

        reading = asyncio.create_task(reader())
        sequence = 0
        await asyncio.sleep(random.random() * interval)  # noqa: S311
        while not stop.is_set():
            if tally.quiet:
                await asyncio.sleep(0.2)
                continue
            sequence += 1
            body = f"v{number}-m{sequence}"
            if conversation is not None:
                conversations[number] = conversation
                pending[conversation] = time.perf_counter()
            tally.sent_by_visitor[body] = time.perf_counter()
            await ws.send(json.dumps({"type": "message", "client_id": body, "body": body}))
            await asyncio.sleep(interval * (0.8 + 0.4 * random.random()))  # noqa: S311
        reading.cancel()


def _cpu(pids: list[int]) -> float:
    tick = os.sysconf("SC_CLK_TCK")
    wanted, total = set(pids), 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) in wanted or int(fields[1]) in wanted:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


async def drive(args, base: str, api: str, key: str, sessions: list[str], api_key: str,
                roles: dict[str, list[int]]) -> dict:  # fmt: skip
    """``roles``: the server's processes by role (``_cpu`` adds their children), whose CPU is reported apart."""
    tally, pending, conversations = Tally(), {}, {}
    stop = asyncio.Event()
    agents = [asyncio.create_task(agent(base, api, s, api_key, tally, pending, stop)) for s in sessions]
    await asyncio.sleep(2)
    visitors = []
    for n in range(args.visitors):
        visitors.append(asyncio.create_task(visitor(base, key, n, tally, pending, conversations, stop, args.interval)))
        if n % 50 == 49:
            await asyncio.sleep(0.5)  # connect in waves, as a day's traffic would
    _log(f"{args.visitors} visitors connected; warming up {args.warmup:.0f} s (first messages routed to agents)…")
    await asyncio.sleep(args.warmup)
    cpu_before, driver_before = {role: _cpu(pids) for role, pids in roles.items()}, time.process_time()
    snapshots_before = dict(tally.snapshots)
    tally.timing = True
    sent_before, replies_before = len(tally.sent_by_visitor), len(tally.replies)
    await asyncio.sleep(args.seconds)
    tally.timing = False
    cpu = {role: _cpu(pids) - cpu_before[role] for role, pids in roles.items()}
    driver = time.process_time() - driver_before
    snapshots = {kind: tally.snapshots[kind] - snapshots_before[kind] for kind in tally.snapshots}
    messages = (len(tally.sent_by_visitor) - sent_before) + (len(tally.replies) - replies_before)
    tally.quiet = True
    await asyncio.sleep(5)  # no new message from now on: the last replies arrive before losses are counted
    stop.set()
    outcomes = await asyncio.gather(*agents, *visitors, return_exceptions=True)
    # an agent or visitor that died stopped answering or writing: its error is reported, not swallowed
    errors = [repr(outcome) for outcome in outcomes if isinstance(outcome, Exception)]
    lost_replies = sum(1 for body in tally.replies if body not in tally.replies_seen)
    return {
        "to_agent": tally.to_agent,
        "to_visitor": tally.to_visitor,
        "messages": messages,
        "cpu": cpu,
        "driver": driver,
        "lost_replies": lost_replies,
        "replies": len(tally.replies),
        "duplicates": tally.duplicates,
        "heard": len(tally.seen_by_agent),
        "sent": len(tally.sent_by_visitor),
        "snapshots": snapshots,
        "load": Path("/proc/loadavg").read_text()[:15],
        "errors": errors,
    }


def _pct(values: list[float], q: float) -> str:
    if not values:
        return "—"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000:.0f}"


def report(args, results: dict[str, dict]) -> None:
    """One table for Switchboard and the ceiling (``bench/widget_ceiling_app.py``) measured in the same run."""
    _log(f"\n{args.visitors} visitors, {args.agents} agents, a message every ~{args.interval:g} s, "
         f"{args.seconds:g} s timed, uvicorn ×{args.workers}"
         + (f", the API on granian ×{args.web_workers}" if args.web == "granian" else ", the API on the same"))  # fmt: skip
    _log("| server | direction | messages timed | p50 ms | p99 ms |")
    _log("|---|---|---|---|---|")
    for name, r in results.items():
        for label, values in (("visitor → agent console", r["to_agent"]), ("agent → visitor", r["to_visitor"])):
            _log(f"| {name} | {label} | {len(values)} | {_pct(values, 0.5)} | {_pct(values, 0.99)} |")
    for name, r in results.items():
        messages, cpu = r["messages"], sum(r["cpu"].values())
        by_role = ", ".join(f"{role} {seconds:.1f} s" for role, seconds in r["cpu"].items())
        _log(f"{name}: messages in the timed window: {messages} ({messages / args.seconds:.1f}/s); server CPU "
             f"{cpu:.1f} s ({by_role}) = {cpu / max(messages, 1) * 1000:.1f} s per 1,000 messages")  # fmt: skip
        _log(f"{name}: replies not received: {r['lost_replies']} of {r['replies']}; messages heard twice: "
             f"{r['duplicates']}; visitor messages heard by a console: {r['heard']} of {r['sent']}")  # fmt: skip
        _log(f"{name}: snapshots after a hole or resync in the timed window: consoles {r['snapshots']['console']}, "
             f"widgets {r['snapshots']['widget']}; the driver's own CPU {r['driver']:.1f} s; load {r['load']}")  # fmt: skip
        _log(
            f"{name}: driver tasks that died: {len(r['errors'])}"
            + (f" (first: {r['errors'][0]})" if r["errors"] else "")
        )


def _pids(command_line: str) -> list[int]:
    """The processes whose command line contains ``command_line`` (``_cpu`` adds their children: the workers)."""
    found = subprocess.run(["pgrep", "-f", command_line], capture_output=True, text=True, check=False)  # noqa: S603,S607
    return [int(pid) for pid in found.stdout.split()]


@contextmanager
def web_role(args, env: dict[str, str], app: str):
    """The API's server: granian on the next port (production's web role), or None (the uvicorn serves it)."""
    if args.web != "granian":
        yield None
        return
    with granian(app, port=args.port + 1, workers=args.web_workers, threads=2, env=env) as base:
        yield base


@contextmanager
def servers(args, env: dict[str, str], asgi: str, wsgi: str):
    """The sockets' uvicorn and the API's server (granian, or the same uvicorn) for ``asgi`` / ``wsgi``, until the
    block ends: yields their two base URLs and their processes by role (``drive``'s ``roles``)."""
    with uvicorn(asgi, port=args.port, workers=args.workers, env=env) as base, web_role(args, env, wsgi) as api:
        roles = {"sockets": _pids(f"uvicorn {asgi} --host 127.0.0.1 --port {args.port}")}
        if args.web == "granian":
            roles["API"] = _pids(f"granian --interface wsgi {wsgi} --host 127.0.0.1 --port {args.port + 1}")
        yield base, api or base, roles


def ceiling(args, env: dict[str, str], sessions: list[str]) -> dict:
    """The same drive against ``bench/widget_ceiling_app.py`` (one INSERT and one group send a message), same servers."""
    ceiling_env = env | {"BENCH_AGENT_SESSIONS": ",".join(sessions), "BENCH_CEILING_PREFIX": uuid.uuid4().hex[:8]}
    subprocess.run([PYTHON, str(Path(__file__).with_name("widget_ceiling_app.py"))], env=ceiling_env, check=True)  # noqa: S603
    app = "bench.widget_ceiling_app"
    with servers(args, ceiling_env, f"{app}:application", f"{app}:wsgi_application") as (base, api, roles):
        return asyncio.run(drive(args, base, api, "ceiling", sessions, "no-key", roles))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    _db.add_arguments(parser, default=DEFAULT_DATABASE, keep=False)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"))
    parser.add_argument("--visitors", type=int, default=500)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between a visitor's messages")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the timed window lasts")
    parser.add_argument("--warmup", type=float, default=20.0)
    parser.add_argument(
        "--workers", type=int, default=4, help="uvicorn processes (4: two per core, as the README's production command)"
    )
    parser.add_argument(
        "--web",
        choices=["granian", "same"],
        default="granian",
        help="where the agents' API replies go: a web role of its own (granian, as in production) or the uvicorn",
    )
    parser.add_argument("--web-workers", type=int, default=2, help="granian processes (2 threads each)")
    parser.add_argument("--pool-size", type=int, default=8)
    parser.add_argument("--celery-concurrency", type=int, default=1)
    parser.add_argument("--port", type=int, default=8785)
    parser.add_argument("--skip-ceiling", action="store_true", help="measure Switchboard only")
    args = parser.parse_args()
    args.database_url = _db.prepare(args.database, recreate=True)
    env = server_env(args) | {
        "CELERY_BROKER_URL": args.redis_url,
        "CELERY_TASK_DEFAULT_QUEUE": f"bench-widget-{uuid.uuid4().hex[:8]}",
        "SWITCHBOARD_INSTANCE": f"bench-widget-{uuid.uuid4().hex[:6]}",
        "SWITCHBOARD_WIDGET_MESSAGES_PER_MINUTE_PER_ADDRESS": "1000000",
        "SWITCHBOARD_WS_MAX_PER_USER": "10",
    }
    try:
        manage("migrate", "--noinput", env=env)
        os.environ.update(env)
        import django

        django.setup()
        key, sessions, api_key, _queue = make_center(agents=args.agents, visitors=args.visitors)
        from django.db import connections

        connections.close_all()
        results = {}
        with (
            celery_worker(env, args.celery_concurrency) as worker,
            servers(args, env, "config.asgi:application", "config.wsgi:application") as (base, api, roles),
        ):
            roles["Celery"] = [worker.pid]
            results["Switchboard"] = asyncio.run(drive(args, base, api, key, sessions, api_key, roles))
        if not args.skip_ceiling:
            results["ceiling"] = ceiling(args, env, sessions)
        report(args, results)
    finally:
        _db.finish(args.database_url, keep=args.keep_database)


if __name__ == "__main__":
    main()
