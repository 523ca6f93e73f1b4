"""A real PostgreSQL primary with a streaming replica, on free loopback ports, for the replica tests and benchmarks.

``initdb`` makes the primary (``wal_level=replica``), ``pg_basebackup -R`` copies it into a replica that streams
from it; both run as the ``postgres`` OS user when we are root (PostgreSQL refuses to run as root), with the
server binaries of ``pg_config --bindir``. ``available()`` says whether they are there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from tests.support.ports import free_ports

MISSING = (
    "PostgreSQL's server binaries (initdb, pg_ctl, pg_basebackup) were not found: install Debian's postgresql "
    "package (pg_config --bindir) to run the read-replica tests"
)


def _complete(path: Path) -> bool:
    return all((path / tool).exists() for tool in ("initdb", "pg_ctl", "pg_basebackup"))


def bindir() -> Path | None:
    """``pg_config --bindir``, or Debian's server directory when pg_config (libpq-dev) is not installed."""
    found = shutil.which("pg_config")
    if found is not None:
        try:
            done = subprocess.run([found, "--bindir"], capture_output=True, text=True, check=True)  # noqa: S603
            path = Path(done.stdout.strip())
            if _complete(path):
                return path
        except (OSError, subprocess.CalledProcessError):
            pass
    servers = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0
    )
    return next((path for path in reversed(servers) if _complete(path)), None)


def available() -> bool:
    return bindir() is not None


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class ReplicatedPostgres:
    """``start()`` both servers, ``stop_replica()`` / ``start_replica()`` one, ``stop()`` everything."""

    def __init__(self) -> None:
        self.bin = bindir()
        self.root = Path(tempfile.mkdtemp(prefix="sb-replica-"))
        self.primary_port, self.replica_port = free_ports(2)
        self.primary_dir, self.replica_dir = self.root / "primary", self.root / "replica"

    def _run(self, *command: str) -> None:
        subprocess.run(_as_postgres([str(self.bin / command[0]), *command[1:]]), check=True, capture_output=True)  # noqa: S603

    def url(self, port: int, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{port}/{database}"

    def start(self) -> ReplicatedPostgres:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        self._run("initdb", "-D", str(self.primary_dir), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
        settings = [
            f"port = {self.primary_port}",
            "listen_addresses = '127.0.0.1'",
            f"unix_socket_directories = '{self.root}'",
            "wal_level = replica",
            "max_wal_senders = 5",
            "hot_standby = on",
            "fsync = off",
            "synchronous_commit = off",
            "full_page_writes = off",
        ]
        with (self.primary_dir / "postgresql.conf").open("a") as conf:
            conf.write("\n".join(settings) + "\n")
        self._ctl(self.primary_dir, "start")
        self._run(
            "pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary_port), "-U", "postgres",
            "-D", str(self.replica_dir), "-R", "-X", "stream",
        )  # fmt: skip
        with (self.replica_dir / "postgresql.conf").open("a") as conf:
            conf.write(f"port = {self.replica_port}\n")
        self.start_replica()
        return self

    def _ctl(self, data: Path, action: str) -> None:
        command = ["pg_ctl", "-D", str(data), "-w", "-t", "60", "-l", str(data.parent / f"{data.name}.log"), action]
        if action == "stop":
            command += ["-m", "fast"]
        self._run(*command)

    def start_replica(self) -> None:
        self._ctl(self.replica_dir, "start")
        deadline = time.monotonic() + 60
        while True:
            try:
                with psycopg.connect(self.url(self.replica_port), connect_timeout=2) as conn:
                    if conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
                        return
            except psycopg.OperationalError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the replica did not come up")
            time.sleep(0.2)

    def stop_replica(self) -> None:
        self._ctl(self.replica_dir, "stop")

    def wait_replayed(self, timeout: float = 30) -> None:
        """Until the replica has replayed everything the primary wrote so far."""
        with psycopg.connect(self.url(self.primary_port), autocommit=True) as primary:
            target = primary.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]  # commits are async here
        deadline = time.monotonic() + timeout
        with psycopg.connect(self.url(self.replica_port), autocommit=True) as replica:
            while not replica.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]).fetchone()[0]:
                if time.monotonic() > deadline:
                    raise RuntimeError("the replica did not catch up")
                time.sleep(0.1)

    def stop(self) -> None:
        for data in (self.replica_dir, self.primary_dir):
            if (data / "postmaster.pid").exists():
                try:
                    self._ctl(data, "stop")
                except subprocess.CalledProcessError:
                    pass
        shutil.rmtree(self.root, ignore_errors=True)
