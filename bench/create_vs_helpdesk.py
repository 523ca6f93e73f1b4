"""Switchboard's create beside django-helpdesk's, and ASGI beside WSGI, measured in one run with one load tool.

Usage (from the repository root, PostgreSQL and Redis running, the peer built once with
``bash ../shared/peers/django-helpdesk/setup.sh``):

    .venv/bin/python bench/create_vs_helpdesk.py                      # 3 alternating rounds, 15 s, 16 connections
    .venv/bin/python bench/create_vs_helpdesk.py --rounds 1 --duration 5 --no-peer   # Switchboard's servers only

Every phase starts its own server, warms it up for 3 s and drives it with ``wrk -t2 -c<connections>`` for
``--duration`` seconds; a round runs, in turn:

- Switchboard's ``POST /api/v1/interactions/`` (``bench/wrk_create.lua``: 70 % existing customers, 30 % new
  addresses) under **uvicorn** (ASGI, ``config.asgi``) and under **gunicorn** with WSGI workers
  (``config.wsgi``; ``--wsgi-class sync`` or ``gthread`` with ``--threads``) and under **granian** with WSGI
  (Rust HTTP with keep-alive, ``--granian-threads`` blocking threads per process; 0 skips it), each with
  ``--workers`` processes;
- Switchboard's ceiling, ``bench/ceiling_app.py``'s bare INSERT, under gunicorn with the same workers;
- django-helpdesk 2.6.1's ``POST /helpdesk/api/tickets/`` and its bare INSERT view (the peer's own
  ``scripts/run_load.sh``: gunicorn, 2 sync workers).

Switchboard's database is ``bench/api_ingest.py``'s (``--interactions``, default 1,000,000, 2 % queued; made once,
kept). It prints each phase's req/s, p50 and p99, the medians over the rounds, the ratio of the medians of the
two creates (our aim: ≥ 2.0) and each create's share of its own ceiling.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _db  # noqa: E402
import api_ingest  # noqa: E402  (its database, server settings and uvicorn runner)

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
LUA = Path(__file__).resolve().parent / "wrk_create.lua"
PEER = ROOT.parent / "shared" / "peers" / "django-helpdesk"


@contextmanager
def gunicorn(app: str, *, port: int, workers: int, worker_class: str, threads: int, env: dict[str, str]):
    """Serve the WSGI ``app`` on 127.0.0.1:``port`` with gunicorn until the block ends (own process group)."""
    command = [
        PYTHON,
        "-m",
        "gunicorn",
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        worker_class,
        "--threads",
        str(threads),
        "--timeout",
        "30",
        "--log-level",
        "warning",
    ]
    with api_ingest.serving(command, name=f"gunicorn {app}", port=port, env=env) as base:
        yield base


@contextmanager
def granian(app: str, *, port: int, workers: int, threads: int, env: dict[str, str]):
    """Serve the WSGI ``app`` with granian (Rust HTTP, keep-alive; ``threads`` blocking threads per process)."""
    command = [
        PYTHON, "-m", "granian", "--interface", "wsgi", app, "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers), "--blocking-threads", str(threads), "--no-ws", "--log-level", "warning",
    ]  # fmt: skip
    with api_ingest.serving(command, name=f"granian {app}", port=port, env=env) as base:
        yield base


QUEUED = "/api/v1/interactions/?status=queued"  # the list phase's URL: the queue's first page


def wrk(url: str, *, mode: str, duration: float, connections: int, env: dict[str, str]) -> dict:
    """Warm up 3 s, then one measured wrk run; its RESULT line as a dict."""
    base = ["wrk", "-t2", f"-c{connections}", "--timeout", "10s", "-s", str(LUA)]
    run_env = {**env, "MODE": mode}
    subprocess.run([*base, "-d3s", url], env=run_env, capture_output=True, check=False, timeout=60)  # noqa: S603
    out = subprocess.run(  # noqa: S603
        [*base, f"-d{duration:.0f}s", "--latency", url],
        env=run_env,
        capture_output=True,
        text=True,
        check=False,
        timeout=duration + 60,
    ).stdout
    return parse_result(out)


def parse_result(output: str) -> dict:
    for line in output.splitlines():
        if "RESULT " in line:
            return json.loads(line.split("RESULT ", 1)[1])
    raise SystemExit(f"wrk printed no RESULT line:\n{output}")


def peer(name: str, mode: str, path: str, *, duration: float, connections: int) -> dict:
    env = {**os.environ, "PEER_DB": os.environ.get("PEER_DB", "helpdesk_peer")}
    env.setdefault("ROOT", "/tmp/peer-helpdesk")  # noqa: S108  (where the peer's setup.sh builds it)
    out = subprocess.run(  # noqa: S603
        [
            "/bin/bash",
            str(Path(env["ROOT"]) / "scripts" / "run_load.sh"),
            name,
            mode,
            path,
            f"{duration:.0f}",
            str(connections),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=duration + 120,
    )
    for line in out.stdout.splitlines():
        if line.startswith(name + " "):
            return json.loads(line.split(" ", 1)[1])
    raise SystemExit(f"the peer's run_load.sh printed no result:\n{out.stdout}\n{out.stderr}")


def errors(result: dict) -> int:
    return sum(result[k] for k in ("err_connect", "err_read", "err_write", "err_timeout", "non2xx3xx"))


def round_phases(args, env: dict[str, str], key: str) -> dict[str, dict]:
    wrk_env = {**env, "SB_KEY": key, "SB_CUSTOMERS": str(args.customers)}
    measured: dict[str, dict] = {}
    create = "/api/v1/interactions/"

    def drive(server, label: str) -> None:
        """Our create (and with ``--list`` the queue's first page) on ``server``, a context giving its base URL."""
        with server as base:
            measured[f"Switchboard create, {label}"] = wrk(
                base + create, mode="create", duration=args.duration, connections=args.connections, env=wrk_env
            )
            if args.list:
                measured[f"Switchboard list queued, {label}"] = wrk(
                    base + QUEUED, mode="list", duration=args.duration, connections=args.connections, env=wrk_env
                )

    drive(
        api_ingest.uvicorn("config.asgi:application", port=args.port, workers=args.workers, env=env), "uvicorn (ASGI)"
    )
    wsgi = f"gunicorn {args.wsgi_class}" + (f" ×{args.threads} threads" if args.wsgi_class == "gthread" else "")
    server = gunicorn(
        "config.wsgi:application", port=args.port, workers=args.workers, worker_class=args.wsgi_class,
        threads=args.threads, env=env,
    )  # fmt: skip
    drive(server, f"{wsgi} (WSGI)")
    if args.granian_threads:
        server = granian(
            "config.wsgi:application", port=args.port, workers=args.workers, threads=args.granian_threads, env=env
        )
        drive(server, f"granian ×{args.granian_threads} threads (WSGI)")
    ceiling_env = {**env, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'bench'}"}
    with gunicorn(
        "bench.ceiling_app:wsgi_application", port=args.port + 1, workers=args.workers, worker_class="sync",
        threads=1, env=ceiling_env,
    ) as base:  # fmt: skip
        measured["Switchboard ceiling (bare INSERT)"] = wrk(
            base + "/ingest", mode="ceiling", duration=args.duration, connections=args.connections, env=wrk_env
        )
    if not args.no_peer:
        measured["django-helpdesk create"] = peer(
            "hd-create", "create", "/helpdesk/api/tickets/", duration=args.duration, connections=args.connections
        )
        measured["django-helpdesk ceiling (bare INSERT)"] = peer(
            "hd-ceiling", "ceiling", "/bench/insert/", duration=args.duration, connections=args.connections
        )
    return measured


def report(rounds: list[dict[str, dict]]) -> None:
    print(f"\n{'phase':<46} {'round':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for n, measured in enumerate(rounds, 1):
        for label, r in measured.items():
            print(f"{label:<46} {n:>5} {r['rps']:>8.1f} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} {errors(r):>7}")
    medians = {
        label: {k: statistics.median(m[label][k] for m in rounds) for k in ("rps", "p50_ms", "p99_ms")}
        for label in rounds[0]
    }
    print(f"\n{'median over ' + str(len(rounds)) + ' rounds':<46} {'':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for label, m in medians.items():
        print(f"{label:<46} {'':>5} {m['rps']:>8.1f} {m['p50_ms']:>8.1f} {m['p99_ms']:>8.1f}")
    ours = [label for label in medians if label.startswith("Switchboard create")]
    ceiling = medians["Switchboard ceiling (bare INSERT)"]["rps"]
    for label in ours:
        print(f"{label} / our ceiling: {medians[label]['rps'] / ceiling:.2f}")
    if "django-helpdesk create" in medians:
        theirs = medians["django-helpdesk create"]["rps"]
        print(
            "django-helpdesk create / its ceiling: "
            f"{theirs / medians['django-helpdesk ceiling (bare INSERT)']['rps']:.2f}"
        )
        for label in ours:
            print(f"ratio of medians, {label} / django-helpdesk create: {medians[label]['rps'] / theirs:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    _db.add_arguments(parser, default=api_ingest.DEFAULT_DATABASE, keep=True)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"))
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=15, help="measured seconds per phase")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="server processes, ours as the peer's")
    parser.add_argument("--pool-size", type=int, default=16, help="database connections per process")
    parser.add_argument("--wsgi-class", choices=("sync", "gthread"), default="sync")
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument(
        "--granian-threads", type=int, default=2, help="blocking threads per granian process (0: no granian phase)"
    )
    parser.add_argument("--port", type=int, default=8775, help="our port; the ceiling uses the next one")
    parser.add_argument("--no-peer", action="store_true", help="only Switchboard's servers")
    parser.add_argument(
        "--list", action="store_true", help=f"also our queue list's first page ({QUEUED}) under both servers"
    )
    args = parser.parse_args()
    args.database_url = _db.prepare(args.database)
    args.regenerate = False
    try:
        env = api_ingest.server_env(args)
        api_ingest.prepare_database(
            args.database_url, interactions=args.interactions, customers=args.customers, regenerate=False, env=env
        )
        key = api_ingest.manage(
            "create_api_key", "--name", f"bench {uuid.uuid4().hex[:6]}", "--scopes", "read,write", env=env
        ).splitlines()[0]
        rounds = []
        for n in range(args.rounds):
            print(f"round {n + 1} of {args.rounds}…", flush=True)
            rounds.append(round_phases(args, env, key.strip()))
        report(rounds)
    finally:
        _db.finish(args.database_url, keep=args.keep_database)


if __name__ == "__main__":
    main()
