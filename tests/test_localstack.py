"""The local stack: an embedded PostgreSQL and Redis under var/, so a fresh machine needs only Python."""

import json
import os
import shutil
import socket
import tempfile
from pathlib import Path

import psycopg
import pytest
import redis

from config import localstack

# Each test gets its own ports (in the platform tests' 31400-31499 range): below Linux's ephemeral range (32768-60999),
# so a client socket of the parallel test run can never hold one, and away from the defaults and 5432/6379.
pytestmark = pytest.mark.slow


@pytest.fixture
def var_dir():
    """Outside pytest's own temporary root: as root the stack opens its directories' ancestors to the PostgreSQL
    user, and another xdist worker taking its first ``tmp_path`` would close /tmp/pytest-of-root (mode 0700) again
    while this server reads its files."""
    root = Path(tempfile.mkdtemp(prefix="sb-localstack-"))
    path = root / "var"
    try:
        yield path
    finally:
        localstack.stop(path)  # never leave servers running after a test, whatever it asserted
        shutil.rmtree(root, ignore_errors=True)


def _pg_select_one(url: str) -> tuple:
    with psycopg.connect(url, connect_timeout=3) as conn:
        return conn.execute("SELECT 1, current_database()").fetchone()


def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)


def test_ensure_running_starts_both_servers_on_the_requested_ports(var_dir):
    urls = localstack.ensure_running(var_dir, postgres_port=31411, redis_port=31412)

    assert urls == {
        "DATABASE_URL": "postgres://postgres@127.0.0.1:31411/switchboard",
        "REDIS_URL": "redis://127.0.0.1:31412/0",
    }
    assert _pg_select_one(urls["DATABASE_URL"]) == (1, "switchboard")
    assert _redis(urls["REDIS_URL"]).ping() is True
    assert json.loads((var_dir / "stack.json").read_text()) == {"postgres_port": 31411, "redis_port": 31412}


def test_second_ensure_running_reuses_the_running_servers(var_dir):
    first = localstack.ensure_running(var_dir, postgres_port=31421, redis_port=31422)
    before = localstack.status(var_dir)

    # Other ports asked for: the running servers (and their remembered ports) win, nothing restarts.
    again = localstack.ensure_running(var_dir, postgres_port=31423, redis_port=31424)
    after = localstack.status(var_dir)

    assert again == first
    assert after["postgres"]["pid"] == before["postgres"]["pid"] is not None
    assert after["redis"]["pid"] == before["redis"]["pid"] is not None


def test_stop_stops_both_and_a_restart_keeps_the_data(var_dir):
    urls = localstack.ensure_running(var_dir, postgres_port=31431, redis_port=31432)
    with psycopg.connect(urls["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (name text)")
        conn.execute("INSERT INTO kept VALUES ('still here')")
    _redis(urls["REDIS_URL"]).set("kept", "still here too")

    assert localstack.stop(var_dir) == ["redis", "postgres"]

    status = localstack.status(var_dir)
    assert not status["postgres"]["running"] and not status["redis"]["running"]
    with pytest.raises(psycopg.OperationalError):
        _pg_select_one(urls["DATABASE_URL"])
    with pytest.raises(redis.ConnectionError):
        _redis(urls["REDIS_URL"]).ping()

    assert localstack.ensure_running(var_dir) == urls  # same ports, same data directory
    with psycopg.connect(urls["DATABASE_URL"]) as conn:
        assert conn.execute("SELECT name FROM kept").fetchall() == [("still here",)]
    assert _redis(urls["REDIS_URL"]).get("kept") == b"still here too"


def test_stale_pidfiles_from_a_crash_do_not_block_the_next_start(var_dir):
    urls = localstack.ensure_running(var_dir, postgres_port=31441, redis_port=31442)
    localstack.stop(var_dir)
    # A crash or reboot leaves pidfiles whose PID now belongs to some other process (here: this one).
    postmaster = var_dir / "postgres" / "postmaster.pid"
    postmaster.write_text(f"{os.getpid()}\n{var_dir / 'postgres'}\n0\n31441\n\n127.0.0.1\n0 0\nready\n")
    (var_dir / "redis" / "redis.pid").write_text(f"{os.getpid()}\n")

    assert localstack.ensure_running(var_dir) == urls
    assert _pg_select_one(urls["DATABASE_URL"]) == (1, "switchboard")
    assert _redis(urls["REDIS_URL"]).ping() is True


def test_a_port_taken_at_first_start_is_replaced_and_remembered(var_dir):
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", 31452))
        squatter.listen()

        urls = localstack.ensure_running(var_dir, services=["redis"], redis_port=31452)

    port = int(urls["REDIS_URL"].rsplit(":", 1)[1].split("/")[0])
    assert port != 31452
    assert _redis(urls["REDIS_URL"]).ping() is True
    assert json.loads((var_dir / "stack.json").read_text()) == {"redis_port": port}


def test_cli_status_reports_running_servers_and_their_urls(var_dir, capsys):
    urls = localstack.ensure_running(var_dir, postgres_port=31461, redis_port=31462)

    assert localstack.main(["status", "--json", "--var-dir", str(var_dir)]) == 0

    reported = json.loads(capsys.readouterr().out)
    assert reported["postgres"]["running"] and reported["postgres"]["url"] == urls["DATABASE_URL"]
    assert reported["redis"]["running"] and reported["redis"]["url"] == urls["REDIS_URL"]
