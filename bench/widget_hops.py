"""The chat widget's message path, hop by hop, in one process: SQL statements, Redis commands and CPU per message.

Load-independent companion of ``bench/widget.py`` (whose wall-clock figures depend on what else the machine
runs). Usage (from the repository root, PostgreSQL and Redis running)::

    .venv/bin/python bench/widget_hops.py                 # 200 messages each way
    .venv/bin/python bench/widget_hops.py --messages 500

What it does: a ``bench_*`` database (``bench/_db.py``, dropped at the end), the center of ``bench/widget.py``
(a team, an auto-accepting chat queue, agents, the chat inbox), ``--visitors`` conversations routed to the agents.
Then, per hop, ``--messages`` times and measured together:

- visitor → server: what the widget socket runs for one visitor message (``WidgetConsumer._store``: limits, the
  import through the lifecycle, and the after-commit publishes to the visitor's group and the agent's console);
- agent → visitor: the agent's reply through the API (``POST /api/v1/interactions/{id}/messages/``: the outbox,
  the chat adapter publishing to the visitor's group), with Django's test client.

For each: SQL statements (``CaptureQueriesContext``), Redis commands of this database (``MONITOR``, counted per
message) and process CPU (``time.process_time()``, every thread: the publisher loop's included) per message.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _db  # noqa: E402
from api_ingest import manage, server_env  # noqa: E402
from widget import make_center  # noqa: E402


class RedisCounter:
    """Commands sent to one Redis database, by name, from a ``MONITOR`` connection."""

    LINE = re.compile(r'^[\d.]+ \[(\d+) [^\]]*\] "([A-Za-z]+)"')

    def __init__(self, url: str) -> None:
        import redis

        self.db = str(redis.Redis.from_url(url).connection_pool.connection_kwargs.get("db", 0))
        self.client = redis.Redis.from_url(url)
        self.counts: Counter[str] = Counter()
        self.on = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        time.sleep(0.3)

    def _run(self) -> None:
        with self.client.monitor() as monitor:
            for line in monitor.listen():
                if not self.on or str(line.get("db")) != self.db:
                    continue
                self.counts[line["command"].split(" ", 1)[0].upper()] += 1

    def start(self) -> None:
        self.counts.clear()
        self.on = True

    def stop(self) -> Counter[str]:
        time.sleep(0.5)  # MONITOR lags a little
        self.on = False
        return Counter(self.counts)


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


def measure(name: str, n: int, step, redis_counter: RedisCounter, profile: str | None = None) -> None:
    import cProfile

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    redis_counter.start()
    writes, connects = ROUND_TRIPS.writes, ROUND_TRIPS.connects
    profiler = cProfile.Profile() if profile else None
    with CaptureQueriesContext(connection) as queries:
        cpu, wall = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        for i in range(n):
            step(i)
        if profiler:
            profiler.disable()
            profiler.dump_stats(f"{profile}-{name.split()[0]}.prof")
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    commands = redis_counter.stop()
    writes, connects = (ROUND_TRIPS.writes - writes) / n, (ROUND_TRIPS.connects - connects) / n
    if os.environ.get("HOPS_SHOW_SQL"):
        for query in queries.captured_queries[-len(queries) // n :]:
            print("   ", query["sql"][:220])
    total = sum(commands.values())
    top = ", ".join(f"{c} {k / n:.1f}" for c, k in commands.most_common(6))
    print(
        f"| {name} | {len(queries) / n:.1f} | {writes:.1f} | {connects:.1f} | {total / n:.1f} ({top}) "
        f"| {cpu / n * 1000:.2f} | {wall / n * 1000:.2f} |",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    _db.add_arguments(parser, default="bench_widget_hops", keep=False)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"))
    parser.add_argument("--visitors", type=int, default=50)
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--profile", metavar="PREFIX", help="write a cProfile of each hop to PREFIX-<hop>.prof")
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
            if isinstance(event, dict):  # older versions published inside _store and returned None
                publish([({socket.group}, "widget.message", event)])

        key, _sessions, api_key, _queue = make_center(agents=args.agents, visitors=args.visitors)
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
        conversations = list(Interaction.objects.filter(inbox=inbox).values_list("pk", flat=True))
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

        for i in range(20):  # warm caches and pools
            visitor_step(i)
            agent_step(i)
        print(f"\n{args.messages} messages per hop, load {Path('/proc/loadavg').read_text().split()[:3]}")
        print(
            "| hop | SQL per message | Redis round trips | new Redis connections | Redis commands per message "
            "| CPU ms per message | wall ms |"
        )
        print("|---|---|---|---|---|---|---|")
        measure("visitor → server (socket message)", args.messages, visitor_step, redis_counter, args.profile)
        measure("agent → visitor (API reply)", args.messages, agent_step, redis_counter, args.profile)
        from django.db import connections

        connections.close_all()
    finally:
        _db.finish(args.database_url, keep=args.keep_database)


if __name__ == "__main__":
    main()
