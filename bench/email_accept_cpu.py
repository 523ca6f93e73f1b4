"""CPU per request of the queued e-mail endpoint against the bare ceiling view, in one process (no server, no load).

Usage (from the repository root, PostgreSQL and Redis up):

    .venv/bin/python bench/email_accept_cpu.py                      # 2,000 requests each, alternating, and a drain
    .venv/bin/python bench/email_accept_cpu.py --requests 500 --profile endpoint   # cProfile of one side

Wall-clock rates (``bench/email_ingest.py``) move with whatever else the machine runs; the CPU one request takes in
its process does not, much. So this drives both sides in this process, through Django's WSGI handler with a real
body, in alternating blocks (``--blocks``), and prints the median CPU ms per request of each side:

* **endpoint**: ``POST /inbound/email/<token>/`` of an inbox ``"import": "queued"``, through ``config.wsgi``'s handler
  with every middleware of ``config.settings.base`` (DEBUG off), as gunicorn runs it; the drain requests go to a
  Redis broker queue of this run's own (no worker takes them; the queue is deleted at the end);
* **bare**: ``bench/ceiling_app.py``'s ``ingest_raw`` (one INSERT of the raw bytes) through a WSGI handler with no
  middleware, what ``bench/email_ingest.py``'s ceiling phase serves.

Then the statements of one request of each side, the Redis commands per request over a burst of 100, and the drain: ``email_drain`` of the queued
mail in batches of 25 (``crm.inboxes.services.queued``), its CPU per mail and statements per mail (routing is not
run: it is a task of its own).

Database: ``--database`` (default ``bench_email_accept``, ``bench/_db.py``), re-created and dropped at the end.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _db  # noqa: E402  (bench/_db.py: the benchmark's own database)
from api_ingest import manage, server_env  # noqa: E402
from email_ingest import generate_mails, make_center, prepare_database  # noqa: E402

DEFAULT_DATABASE = "bench_email_accept"


def _log(message: str) -> None:
    print(message, flush=True)


def environ_for(path: str, raw: bytes) -> dict:
    """A WSGI environ as gunicorn builds it for an MTA's POST of ``raw``."""
    return {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "CONTENT_TYPE": "message/rfc822",
        "CONTENT_LENGTH": str(len(raw)),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_USER_AGENT": "bench",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(raw),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


class Sides:
    """The two WSGI callables and what each POSTs."""

    def __init__(self, token: str) -> None:
        from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
        from django.test.utils import override_settings

        import bench.ceiling_app  # noqa: F401  (its views; the settings are config's, already configured)

        class CeilingRequest(WSGIRequest):
            urlconf = "bench.ceiling_app"

        class BareHandler(WSGIHandler):
            request_class = CeilingRequest

        self.endpoint = WSGIHandler()
        with override_settings(MIDDLEWARE=[]):
            self.bare = BareHandler()
        self.paths = {"endpoint": f"/inbound/email/{token}/", "bare": "/ingest-raw"}

    def call(self, side: str, raw: bytes) -> int:
        handler = self.endpoint if side == "endpoint" else self.bare
        statuses = []
        response = handler(environ_for(self.paths[side], raw), lambda status, headers: statuses.append(status))
        try:
            b"".join(response)
        finally:
            response.close()  # request_finished: what gunicorn triggers after each request
        return int(statuses[0].split()[0])


class RedisCounter:
    """Counts the commands this process sends to Redis (single or pipelined), every client included."""

    def __init__(self) -> None:
        self.commands: list[str] = []

    def __enter__(self):
        from redis.connection import AbstractConnection

        self._originals = send_command, pack_commands = (
            AbstractConnection.send_command,
            AbstractConnection.pack_commands,
        )
        commands = self.commands

        def counted_send(connection, *args, **kwargs):
            commands.append(" ".join(str(arg) for arg in args[:2]))
            return send_command(connection, *args, **kwargs)

        def counted_pack(connection, batch):
            batch = list(batch)
            commands.extend(" ".join(str(arg) for arg in args[:2]) for args in batch)
            return pack_commands(connection, batch)

        AbstractConnection.send_command, AbstractConnection.pack_commands = counted_send, counted_pack
        return self

    def __exit__(self, *exc):
        from redis.connection import AbstractConnection

        AbstractConnection.send_command, AbstractConnection.pack_commands = self._originals


def redis_per_request(sides: Sides, side: str, mails) -> dict[str, float]:
    """Redis commands per request over a burst of ``mails`` (the drain requests are made by the process's requester
    thread, once per burst: ``config.coalesced``), by command name."""
    from collections import Counter

    from config import coalesced

    with RedisCounter() as counter:
        for mail in mails:
            sides.call(side, mail.raw)
        time.sleep(getattr(coalesced, "LINGER", 0) * 2)  # the requester's last turn
    names = Counter(command.split()[0] for command in counter.commands)
    return {name: number / len(mails) for name, number in sorted(names.items())}


def cost_of_one(sides: Sides, side: str, raw: bytes) -> tuple[int, list[str], list[str]]:
    """The status, statements and Redis commands of one request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with RedisCounter() as redis_commands, CaptureQueriesContext(connection) as queries:
        status = sides.call(side, raw)
    return status, [query["sql"] for query in queries.captured_queries], redis_commands.commands


def measure_acceptance(sides: Sides, mails, *, blocks: int) -> dict[str, list[float]]:
    """CPU ms per request of each side, alternating blocks of the same mails (each side its own copies)."""
    per_block = len(mails) // blocks
    cpu: dict[str, list[float]] = {"endpoint": [], "bare": []}
    for block in range(blocks):
        chunk = mails[block * per_block : (block + 1) * per_block]
        order = ("endpoint", "bare") if block % 2 == 0 else ("bare", "endpoint")
        for side in order:
            started = time.process_time()
            for mail in chunk:
                status = sides.call(side, mail.raw)
                if status not in (201, 202):
                    raise SystemExit(f"{side}: answered {status}")
            cpu[side].append((time.process_time() - started) * 1000 / len(chunk))
    return cpu


def measure_drain(inbox_id: int, *, profile: bool) -> tuple[int, float]:
    """Drain every queued mail of the inbox as a worker does (the task, run here with its signals: its cache scope,
    its pending mark cleared), until none is left: (mails, CPU ms per mail)."""
    from crm.inboxes.models import InboundReceipt
    from crm.inboxes.tasks import email_drain

    waiting = InboundReceipt.objects.filter(inbox_id=inbox_id, status="queued")
    profiler = cProfile.Profile(time.process_time) if profile else None
    drained, cpu = 0, 0.0
    while waiting.exists():
        started = time.process_time()
        if profiler:
            profiler.enable()
        drained += email_drain.apply(kwargs={"inbox_id": inbox_id}).get()
        if profiler:
            profiler.disable()
        cpu += time.process_time() - started
    if profiler:
        _print_profile(profiler, "drain")
    return drained, cpu * 1000 / max(drained, 1)


def drain_statements(inbox_id: int) -> tuple[int, list[str]]:
    """One batch of the drain, its statements counted: (mails, statements)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from crm.inboxes.services.queued import email_drain

    with CaptureQueriesContext(connection) as queries:
        drained = email_drain(inbox_id=inbox_id, rounds=1)
    return drained, [query["sql"] for query in queries.captured_queries]


def _print_profile(profiler: cProfile.Profile, label: str, lines: int = 70) -> None:
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(lines)
        _log(f"\n--- cProfile: {label} ({order}) ---\n{out.getvalue()}")
    if os.environ.get("BENCH_PROFILE_OUT"):
        profiler.dump_stats(os.environ["BENCH_PROFILE_OUT"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    _db.add_arguments(parser, default=DEFAULT_DATABASE, keep=False)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"))
    parser.add_argument("--requests", type=int, default=2000, help="requests per side")
    parser.add_argument("--blocks", type=int, default=10, help="alternating blocks per side")
    parser.add_argument("--profile", choices=["none", "endpoint", "bare", "drain"], default="none")
    parser.add_argument("--no-drain", action="store_true", help="skip the drain")
    parser.add_argument("--verbose", action="store_true", help="print the statements of one drain batch")
    args = parser.parse_args()
    args.database_url = prepare_database(args.database)
    args.pool_size = 4  # the pool, as the servers run (a connection per request would dwarf the rest)
    queue = f"bench-email-accept-{uuid.uuid4().hex[:8]}"
    env = server_env(args) | {
        "CELERY_BROKER_URL": args.redis_url,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "MEDIA_ROOT": tempfile.mkdtemp(prefix="sb-bench-accept-media-"),
        "PYTHONWARNINGS": "ignore",
    }
    try:
        manage("migrate", "--noinput", env=env)
        os.environ.update(env)
        run(args)
    finally:
        _drop_queue(args.redis_url, queue)
        _db.finish(args.database_url, keep=args.keep_database)


def _drop_queue(url: str, queue: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    client.delete(queue)
    client.close()


def run(args) -> None:
    import django

    django.setup()
    from django.db import connections

    from crm.inboxes.models import InboundReceipt
    from crm.inboxes.services.queued import drain_starting

    try:
        inbox, _ = make_center(agents=2, capacity=10, mode="queued")
        drain_starting(inbox_id=inbox.pk)  # no mark left by an earlier run: the warm-up's first mail publishes
        sides = Sides(inbox.token)
        prefix = uuid.uuid4().hex[:6]
        warm = generate_mails(20, prefix=f"warm{prefix}", reply_lag=5)
        for mail in warm:  # the per-process caches (inbox, queue, URL resolver), the connection
            sides.call("endpoint", mail.raw)
            sides.call("bare", mail.raw)
        time.sleep(0.3)  # the requester thread asked for the warm-up's drain (config.coalesced)
        mails = generate_mails(args.requests, prefix=prefix, reply_lag=50)
        one = generate_mails(2, prefix=f"one{prefix}")
        report = {
            side: cost_of_one(sides, side, mail.raw) for side, mail in zip(("endpoint", "bare"), one, strict=True)
        }
        burst = generate_mails(100, prefix=f"burst{prefix}")
        per_request = {side: redis_per_request(sides, side, burst) for side in ("endpoint", "bare")}
        if args.profile in ("endpoint", "bare"):
            profiler = cProfile.Profile(time.process_time)
            profiler.enable()
            for mail in mails:
                sides.call(args.profile, mail.raw)
            profiler.disable()
            _print_profile(profiler, args.profile)
            return
        cpu = measure_acceptance(sides, mails, blocks=args.blocks)
        endpoint, bare = statistics.median(cpu["endpoint"]), statistics.median(cpu["bare"])
        _log(f"\nCPU per request (median of {args.blocks} alternating blocks of {len(mails) // args.blocks}):")
        for side, value in (("endpoint (queued)", endpoint), ("bare ceiling view", bare)):
            key = side.split()[0]
            status, sql, _ = report[key]
            commands = per_request[key]
            listed = ", ".join(f"{name} {number:.2f}" for name, number in commands.items()) or "-"
            _log(
                f"  {side:<18} {value:6.3f} ms   {len(sql)} statements; Redis commands per request in a burst of"
                f" {len(burst)}: {sum(commands.values()):.2f} ({listed}); answer {status}"
            )
        _log(f"  endpoint / bare CPU: {endpoint / bare:.2f} (bare / endpoint {bare / endpoint:.2f}; aim ≥ 0.5)")
        for statement in report["endpoint"][1]:
            _log(f"    endpoint SQL: {statement[:140]}")
        if args.no_drain:
            return
        queued = InboundReceipt.objects.filter(inbox=inbox, status="queued").count()
        _log(f"\ndrain: {queued} queued mails, email_drain in batches of 25")
        # the first batch apart, to count its statements (the counting itself costs CPU)
        counted, statements = drain_statements(inbox.pk)
        drained, per_mail = measure_drain(inbox.pk, profile=args.profile == "drain")
        _log(f"  CPU per mail: {per_mail:.2f} ms ({drained} mails);  statements: {len(statements)} for {counted} mails")
        if args.verbose:
            for statement in statements:
                _log(f"    drain SQL: {statement[:160]}")
        time.sleep(1)  # the live queue figures' timer thread publishes its last round before the database goes
    finally:
        drain_starting(inbox_id=inbox.pk)
        connections.close_all()


if __name__ == "__main__":
    main()
