"""The chat widget's message path, hop by hop, in one process: SQL statements, Redis commands and CPU per message.

Load-independent companion of ``bench/widget.py`` (whose wall-clock figures depend on what else the machine
runs). Usage (from the repository root, PostgreSQL and Redis running)::

    .venv/bin/python bench/widget_hops.py                 # 200 messages each way
    .venv/bin/python bench/widget_hops.py --messages 500

What it does: a ``bench_*`` database (``bench/_db.py``, dropped at the end), the center of ``bench/widget.py``
(a team, an auto-accepting chat queue, agents, the chat inbox), ``--visitors`` conversations routed to the agents.
Then, per hop, ``--messages`` times:

- visitor → server: what the widget socket runs for one visitor message (``WidgetConsumer._store``: limits, the
  import through the lifecycle, and the after-commit publishes to the visitor's group and the agent's console);
- agent → visitor: the agent's reply through the API (``POST /api/v1/interactions/{id}/messages/``: the outbox,
  the chat adapter publishing to the visitor's group), with Django's test client;
- console → visitor: the same reply from the agent's console (``POST /console/interactions/{id}/reply/``, the
  holding agent's session), up to its redirect.

Each hop runs twice: first for process CPU (``time.process_time()``, every thread: the publisher loop's included)
with nothing else running in the process, then for SQL statements (``CaptureQueriesContext``) and Redis commands
of this database (``MONITOR``, whose thread would otherwise add its parsing of the whole server's traffic to the
CPU). ``--sql`` lists the statements of one more message of each hop; ``--profile`` writes a cProfile of the CPU
pass (whose CPU figure then includes the profiler's cost).
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import threading
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _db  # noqa: E402
from api_ingest import manage, server_env  # noqa: E402
from widget import make_center  # noqa: E402


class RedisCounter:
    """Commands sent to one Redis database, by name, from a ``MONITOR`` connection, while ``counting``.

    The monitor's thread parses every command the Redis server runs (any database, anyone's), so it runs only in the
    counting pass: the CPU pass has no monitor, or its parsing would count as the hop's CPU."""

    LINE = re.compile(r'^[\d.]+ \[(\d+) [^\]]*\] "([A-Za-z]+)"')

    def __init__(self, url: str) -> None:
        import redis

        self.db = str(redis.Redis.from_url(url).connection_pool.connection_kwargs.get("db", 0))
        self.client = redis.Redis.from_url(url)
        self.counts: Counter[str] = Counter()
        self.done = threading.Event()

    def _run(self) -> None:
        with self.client.monitor() as monitor:
            self.ready.set()
            for line in monitor.listen():
                if self.done.is_set():
                    return
                if str(line.get("db")) == self.db:
                    self.counts[line["command"].split(" ", 1)[0].upper()] += 1

    @contextmanager
    def counting(self):
        self.counts.clear()
        self.done.clear()
        self.ready = threading.Event()
        thread = threading.Thread(target=self._run, daemon=True)
        thread.start()
        self.ready.wait(5)
        time.sleep(0.2)
        try:
            yield self.counts
        finally:
            time.sleep(0.5)  # MONITOR lags a little
            self.done.set()
            self.client.ping()  # one more line wakes the monitor so it sees ``done``
            thread.join(5)


class RoundTrips:
    """Writes to Redis (a pipeline is one) and new connections, counted in redis-py itself, sync and asyncio."""

    def __init__(self) -> None:
        import redis.asyncio.connection as aio
        import redis.connection as sync

        self.writes = self.connects = 0
        for module in (sync, aio):
            cls = module.AbstractConnection
            cls.send_packed_command = self._counting(cls.send_packed_command, "writes")
            module.Connection._connect = self._counting(module.Connection._connect, "connects")  # a new socket

    def _counting(self, method, attribute: str):
        import inspect

        counter = self
        if inspect.iscoroutinefunction(method):

            async def counted(*args, **kwargs):
                setattr(counter, attribute, getattr(counter, attribute) + 1)
                return await method(*args, **kwargs)
        else:

            def counted(*args, **kwargs):
                setattr(counter, attribute, getattr(counter, attribute) + 1)
                return method(*args, **kwargs)

        return counted


ROUND_TRIPS: RoundTrips | None = None


def measure(name: str, n: int, step, redis_counter: RedisCounter, profile: str | None, show_sql: bool) -> None:
    """Two passes of ``n`` steps: CPU alone (no monitor, nothing captured), then statements and Redis commands."""
    import cProfile

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    profiler = cProfile.Profile(time.process_time) if profile else None  # CPU, not the waits for the database
    cpu, wall = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    for i in range(n):
        step(i)
    if profiler:
        profiler.disable()
        profiler.dump_stats(f"{profile}-{name.split()[0]}.prof")
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    writes, connects = ROUND_TRIPS.writes, ROUND_TRIPS.connects
    with redis_counter.counting() as commands, CaptureQueriesContext(connection) as queries:
        for i in range(n):
            step(n + i)
    writes, connects = (ROUND_TRIPS.writes - writes) / n, (ROUND_TRIPS.connects - connects) / n
    total = sum(commands.values())
    top = ", ".join(f"{c} {k / n:.1f}" for c, k in commands.most_common(6))
    print(
        f"| {name} | {len(queries) / n:.1f} | {writes:.1f} | {connects:.1f} | {total / n:.1f} ({top}) "
        f"| {cpu / n * 1000:.2f} | {wall / n * 1000:.2f} |",
        flush=True,
    )
    if show_sql:
        with CaptureQueriesContext(connection) as one:
            step(2 * n)
        SQL_SHOWN.append((name, [query["sql"] for query in one.captured_queries]))


SQL_SHOWN: list[tuple[str, list[str]]] = []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    _db.add_arguments(parser, default="bench_widget_hops", keep=False)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"))
    parser.add_argument("--visitors", type=int, default=50)
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--profile", metavar="PREFIX", help="write a cProfile of each hop to PREFIX-<hop>.prof")
    parser.add_argument("--sql", action="store_true", help="print the statements of one message of each hop")
    args = parser.parse_args()
    args.pool_size = 4
    global ROUND_TRIPS
    ROUND_TRIPS = RoundTrips()
    args.database_url = _db.prepare(args.database, recreate=True)
    env = server_env(args) | {
        "SWITCHBOARD_INSTANCE": f"bench-hops-{uuid.uuid4().hex[:6]}",
        "SWITCHBOARD_WIDGET_MESSAGES_PER_MINUTE": "0",
        "SWITCHBOARD_WIDGET_MESSAGES_PER_MINUTE_PER_ADDRESS": "0",
        "CELERY_TASK_ALWAYS_EAGER": "true",
    }
    try:
        manage("migrate", "--noinput", env=env)
        os.environ.update(env)
        import django

        django.setup()
        from django.conf import settings

        settings.CELERY_TASK_ALWAYS_EAGER = True
        from django.test import Client

        from config.celery import app as celery_app

        celery_app.conf.task_always_eager = True
        from crm.interactions.models import Interaction
        from crm.live.publisher import publish
        from crm.routing.services.router import route_pending
        from crm.widget.adapter import visitor_group
        from crm.widget.consumer import WidgetConsumer
        from crm.widget.visitors import inbox_by_public_key, visitor_for

        def store(socket, **message) -> None:
            """What the socket does with one visitor message: store it, then publish it to the visitor's group."""
            event = socket._store(**message)
            if isinstance(event, list):  # the sends of the import and the message, sent by the socket's loop
                publish(event)
            elif isinstance(event, dict):  # older versions: the message's event (the import's were sent already)
                publish([({socket.group}, "widget.message", event)])

        key, sessions, api_key, _queue = make_center(agents=args.agents, visitors=args.visitors)
        inbox = inbox_by_public_key(key)
        sockets = []
        for n in range(args.visitors):
            socket = WidgetConsumer.__new__(WidgetConsumer)
            socket.scope = {"client": ("127.0.0.1", 40000 + n)}
            socket.inbox = inbox
            socket.visitor = visitor_for(inbox=inbox, token=None)
            socket.group = visitor_group(socket.visitor.id)
            socket.profile = {"name": f"Visitor {n}", "email": ""}
            store(socket, client_id=f"first-{n}", body=f"Hello from {n}")
            sockets.append(socket)
        route_pending(limit=1000)
        held = Interaction.objects.filter(inbox=inbox).values_list("pk", "agent__user__username").order_by("pk")
        conversations = [pk for pk, _ in held]
        consoles = {}  # the console of the agent holding each conversation (their session)
        for pk, username in held:
            console = Client(SERVER_NAME="127.0.0.1")
            console.cookies["sessionid"] = sessions[int(username.rsplit("-", 1)[1])]
            consoles[pk] = console
        assigned = Interaction.objects.filter(inbox=inbox, agent__isnull=False).count()
        print(f"{len(conversations)} conversations, {assigned} assigned", flush=True)
        redis_counter = RedisCounter(args.redis_url)
        client = Client(headers={"Authorization": f"Bearer {api_key}"}, SERVER_NAME="127.0.0.1")

        def visitor_step(i: int) -> None:
            store(sockets[i % len(sockets)], client_id=f"m-{uuid.uuid4().hex[:12]}", body=f"message {i}")

        def agent_step(i: int) -> None:
            answer = client.post(
                f"/api/v1/interactions/{conversations[i % len(conversations)]}/messages/",
                {"direction": "outbound", "body": f"reply {i}"},
                content_type="application/json",
            )
            assert answer.status_code == 201, answer.content

        def console_step(i: int) -> None:
            conversation = conversations[i % len(conversations)]
            answer = consoles[conversation].post(f"/console/interactions/{conversation}/reply/", {"body": f"reply {i}"})
            assert answer.status_code == 302, answer.content

        # warm caches and pools, and every console's client: a test client loads the middleware (whitenoise's file
        # scan included) on its first request, which a server does once, not per agent
        for i in range(max(20, len(conversations))):
            visitor_step(i)
            agent_step(i)
            console_step(i)
        print(f"\n{args.messages} messages per hop, load {Path('/proc/loadavg').read_text().split()[:3]}")
        print(
            "| hop | SQL per message | Redis round trips | new Redis connections | Redis commands per message "
            "| CPU ms per message | wall ms |"
        )
        print("|---|---|---|---|---|---|---|")
        hops = (
            ("visitor → server (socket message)", visitor_step),
            ("agent → visitor (API reply)", agent_step),
            ("console → visitor (console reply)", console_step),
        )
        for name, step in hops:
            measure(name, args.messages, step, redis_counter, args.profile, args.sql)
        for name, statements in SQL_SHOWN:
            print(f"\n{name}: {len(statements)} statements")
            for sql in statements:
                print("   ", " ".join(sql.split())[:400])
        from django.db import connections

        connections.close_all()
    finally:
        _db.finish(args.database_url, keep=args.keep_database)


if __name__ == "__main__":
    main()
