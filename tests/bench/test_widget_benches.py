"""The widget's two benchmarks, each run whole at a tiny size as a user runs it (a subprocess on a database of its
own, ``bench_*``, dropped afterwards): ``bench/widget.py`` (real sockets through uvicorn, agents answering through
the API, a Celery worker; then the same drive against its ceiling) and ``bench/widget_hops.py`` (the message path's cost per hop, in one process)."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection

from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]


def run_bench(script: str, *args: str) -> str:
    s = connection.settings_dict
    server = f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/postgres"
    database = f"bench_smoke_{uuid.uuid4().hex[:10]}"
    env = os.environ | {"DATABASE_URL": server, "REDIS_URL": settings.REDIS_URL}
    done = subprocess.run(  # noqa: S603 - our own bench script, fixed arguments
        [sys.executable, f"bench/{script}", "--database", database, *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"dropped database {database}" in done.stdout  # it cleans up after itself
    return done.stdout


def table_row(output: str, label: str) -> list[str]:
    line = next(line for line in output.splitlines() if line.startswith(f"| {label}"))
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_widget_bench_times_messages_both_ways_and_loses_none_beside_its_ceiling():
    output = run_bench(
        "widget.py", "--visitors", "4", "--agents", "2", "--seconds", "3", "--warmup", "3", "--interval", "0.5",
        "--workers", "1", "--web-workers", "1", "--port", str(free_port()),
    )  # fmt: skip

    for server in ("Switchboard", "ceiling"):
        for direction in ("visitor → agent console", "agent → visitor"):
            _server, _label, timed, p50, p99 = table_row(output, f"{server} | {direction}")
            assert int(timed) > 0 and 0 <= float(p50) <= float(p99), output
        assert f"{server}: replies not received: 0 of" in output
        assert f"{server}: driver tasks that died: 0" in output
        assert f"{server}: messages in the timed window:" in output and "per 1,000 messages" in output
    assert output.count("messages heard twice: 0") == 2


def test_widget_hops_reports_statements_redis_and_cpu_per_hop():
    output = run_bench("widget_hops.py", "--visitors", "2", "--agents", "1", "--messages", "3")

    for hop in ("visitor → server", "agent → visitor"):
        _label, statements, round_trips, *_rest, cpu, _wall = table_row(output, hop)
        assert float(statements) > 0 and float(round_trips) > 0 and float(cpu) > 0, output
