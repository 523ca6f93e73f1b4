"""``bench/kpis.py --replica``: the same report load on the primary alone, then with a streaming replica.

1. Starts its own PostgreSQL pair on free loopback ports (``tests/support/pg_replica.py``: ``initdb`` primary,
   ``pg_basebackup -R`` replica; nothing else is touched), creates ``bench_kpi_replica`` on the primary, migrates it
   and fills it with ``bench/kpis.py``'s generator (``--interactions``, default 200,000 here), refreshes the rollup,
   and waits until the replica has replayed it all.
2. Twice — without ``DATABASE_REPLICA_URL``, then with it — serves Switchboard with uvicorn (``--workers 2``) and
   drives ``--clients`` concurrent clients for ``--seconds`` seconds at the reports API (30-day summary by queue,
   7-day series by hour, a team-bound key's 7-day summary: the raw path), each with an integrator's key.
3. Prints requests/s, p50/p99 latency, and the primary's CPU seconds per 100 requests during each run (the
   postmaster and its backends, from ``/proc``: utime + stime, and what exited children left in cutime + cstime).

The pair is stopped and removed at the end.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.support.pg_replica import ReplicatedPostgres  # noqa: E402
from tests.support.ports import free_port  # noqa: E402

DATABASE = "bench_kpi_replica"
PATHS = (
    "/api/v1/reports/kpis/?group_by=queue&from={day30}",
    "/api/v1/reports/kpis/?group_by=hour&from={day7}",
)
TEAM_PATH = "/api/v1/reports/kpis/?group_by=queue&from={day7}"


def _log(message: str) -> None:
    print(message, flush=True)


def _cpu_seconds(data_dir: Path) -> float:
    """CPU the primary has used so far: its postmaster, its live children, and its exited children."""
    tick = os.sysconf("SC_CLK_TCK")
    postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry.name), int(fields[1])
        if pid == postmaster:
            total += sum(int(value) for value in fields[11:15]) / tick  # utime stime cutime cstime
        elif ppid == postmaster:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _serve(env: dict[str, str], port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(  # noqa: S603 (our own command line)
        [*command, "--workers", "2", "--lifespan", "off", "--log-level", "warning"], cwd=ROOT, env=env
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("uvicorn did not start")
        time.sleep(0.3)


def _load(base: str, keys: dict[str, str], *, clients: int, seconds: float) -> list[float]:
    from datetime import UTC, datetime, timedelta

    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    fill = {
        "day30": (today - timedelta(days=30)).date().isoformat(),
        "day7": (today - timedelta(days=7)).date().isoformat(),
    }
    latencies: list[float] = []
    errors: list[str] = []
    stop_at = time.monotonic() + seconds
    lock = threading.Lock()

    def client(number: int) -> None:
        team_client = number % 4 == 3  # a quarter of the clients hold a team-bound key: the raw path
        key = keys["team"] if team_client else keys["center"]
        paths = [TEAM_PATH] if team_client else list(PATHS)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60) as http:
            turn = number
            while time.monotonic() < stop_at:
                path = paths[turn % len(paths)].format(**fill)
                started = time.perf_counter()
                response = http.get(path)
                spent = time.perf_counter() - started
                with lock:
                    if response.status_code == 200:
                        latencies.append(spent)
                    else:
                        errors.append(f"{response.status_code} {response.text[:200]}")
                turn += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit(f"{len(errors)} failed requests, e.g. {errors[0]}")
    return latencies


def run_replica(*, interactions: int, clients: int, seconds: float) -> None:
    # kpis.py's generator and helpers (imported here: kpis.py imports this module only for --replica)
    from kpis import generate

    pair = ReplicatedPostgres().start()
    try:
        primary_url = pair.url(pair.primary_port, DATABASE)
        with psycopg.connect(pair.url(pair.primary_port), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DEBUG": "false",
            "SECRET_KEY": "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-0123456789",
            "SECURE_SSL_REDIRECT": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": primary_url,
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            "SWITCHBOARD_INSTANCE": "bench-kpi-replica",
            "LOG_LEVEL": "WARNING",
        }
        subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True
        )
        _log(f"generating {interactions:,} interactions on the primary…")
        generate(primary_url, interactions=interactions)
        subprocess.run(  # noqa: S603
            [sys.executable, "-c", "import django; django.setup(); from reporting.rollups import kpi_rollup_refresh; "
             "kpi_rollup_refresh()"], cwd=ROOT, env=env, check=True,
        )  # fmt: skip
        with psycopg.connect(primary_url) as conn:
            team = conn.execute("SELECT min(id) FROM agents_team").fetchone()[0]
        keys = {}
        for name, extra in (("center", []), ("team", ["--team", str(team)])):
            out = subprocess.run(  # noqa: S603
                [sys.executable, "manage.py", "create_api_key", "--name", f"bench {name}", "--scopes", "read", *extra],
                cwd=ROOT, env=env, check=True, capture_output=True, text=True,
            )  # fmt: skip
            keys[name] = out.stdout.splitlines()[0]
        pair.wait_replayed(timeout=600)
        _log(f"replica caught up; {clients} clients, {seconds:.0f} s per run, uvicorn --workers 2")

        results = {}
        for label, extra_env in (
            ("primary only", {}),
            ("with the replica", {"DATABASE_REPLICA_URL": pair.url(pair.replica_port, DATABASE)}),
        ):
            port = free_port()
            server = _serve({**env, **extra_env}, port)
            try:
                _load(f"http://127.0.0.1:{port}", keys, clients=clients, seconds=3)  # warm-up
                cpu_before = _cpu_seconds(pair.primary_dir)
                latencies = _load(f"http://127.0.0.1:{port}", keys, clients=clients, seconds=seconds)
                cpu = _cpu_seconds(pair.primary_dir) - cpu_before
            finally:
                server.terminate()
                server.wait(30)
            latencies.sort()
            results[label] = (
                len(latencies) / seconds,
                statistics.median(latencies) * 1000,
                latencies[int(len(latencies) * 0.99) - 1] * 1000,
                cpu,
                cpu / len(latencies) * 100,
            )
        _log(f"\n{interactions:,} interactions; reports API, {clients} clients")
        _log("| | req/s | p50 ms | p99 ms | primary CPU s | primary CPU s per 100 req |")
        _log("|---|---|---|---|---|---|")
        for label, (rate, p50, p99, cpu, per100) in results.items():
            _log(f"| {label} | {rate:.1f} | {p50:.0f} | {p99:.0f} | {cpu:.1f} | {per100:.2f} |")
    finally:
        pair.stop()
