"""The one way every benchmark chooses its database: its own, named ``bench_*``, never anything else.

Why: the benchmarks truncate and bulk-load tables. Pointed at the development database (the ``DATABASE_URL`` a
developer has exported) they used to wipe the demo data. So a benchmark takes only a database *name*
(``--database``, default ``bench_<benchmark>``), refuses any name that does not start with ``bench_``, and
takes from ``DATABASE_URL`` only the server part (user, password, host, port; ``postgres@127.0.0.1:5432``
without it) — never its database. ``KPI_BENCH_DATABASE_URL`` and ``--database-url`` are gone.

It creates the database when missing and marks it as the benchmark's (a ``bench_owner`` table); an existing
``bench_*`` database without that mark that holds tables is refused too (someone else's). What happens after
the run is each benchmark's ``--keep-database``/``--drop-database`` default, printed in its ``--help``: the
ones with a costly data set (api_ingest, kpis, routing, sla_sweep) keep it for the next run, email_ingest and
survey_dispatch drop it.

Generators that truncate also call ``assert_scratch`` on the connection they write with: only a ``bench_*``
database or a Django test database (``test_*``) may be truncated, whoever calls them.
"""

import argparse
import os
import re

import psycopg
from psycopg import sql

PREFIX = "bench_"
OWNER_TABLE = "bench_owner"
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
NAME = re.compile(r"^bench_[a-z0-9_]{1,50}$")


def _log(message: str) -> None:
    print(message, flush=True)


def check_name(name: str) -> str:
    if not NAME.match(name or ""):
        raise SystemExit(
            f"refusing to run: the database {name!r} is not a benchmark's own (a benchmark only uses a database "
            f"named {PREFIX}<lowercase letters, digits, _>, which it creates)"
        )
    return name


def assert_scratch(name: str) -> None:
    """Refuse to write bulk data into anything but a benchmark's or a test run's database."""
    if not (name.startswith(PREFIX) or name.startswith("test_")):
        raise SystemExit(f"refusing to run: {name!r} is neither a benchmark's database (bench_*) nor a test database")


def database_url(name: str, *, server: str | None = None) -> str:
    """The URL of database ``name`` on the server of ``server`` (default: ``DATABASE_URL``'s server)."""
    check_name(name)
    info = psycopg.conninfo.conninfo_to_dict(server or os.environ.get("DATABASE_URL") or DEFAULT_SERVER)
    info = {key: value for key, value in info.items() if key in ("user", "password", "host", "port")}
    user = info.get("user", "postgres") + (f":{info['password']}" if info.get("password") else "")
    return f"postgres://{user}@{info.get('host') or '127.0.0.1'}:{info.get('port') or 5432}/{name}"


def add_arguments(parser: argparse.ArgumentParser, *, default: str, keep: bool) -> None:
    """``--database NAME`` and the keep/drop switch, with this benchmark's defaults in the help."""
    check_name(default)
    parser.add_argument(
        "--database",
        default=default,
        help=f"the benchmark's own database, created if missing; must start with {PREFIX} (default {default}); "
        "the server (user, password, host, port) is DATABASE_URL's, or postgres@127.0.0.1:5432",
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--keep-database",
        dest="keep_database",
        action="store_true",
        default=keep,
        help="keep it after the run" + (" (the default)" if keep else ""),
    )
    group.add_argument(
        "--drop-database",
        dest="keep_database",
        action="store_false",
        help="drop it after the run" + ("" if keep else " (the default)"),
    )


def prepare(name: str, *, recreate: bool = False) -> str:
    """Create database ``name`` (``bench_*``) if missing, or drop and create it (``recreate``); returns its URL.

    Refuses an existing database that holds tables but not the benchmark's mark."""
    url = database_url(name)
    info = psycopg.conninfo.conninfo_to_dict(url)
    with psycopg.connect(**{**info, "dbname": "postgres"}, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None
        if exists:
            with psycopg.connect(url) as conn:
                tables = conn.execute(
                    "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
                ).fetchone()[0]
                ours = conn.execute("SELECT to_regclass(%s) IS NOT NULL", [OWNER_TABLE]).fetchone()[0]
            if tables and not ours:
                raise SystemExit(
                    f"refusing to run: the database {name} holds {tables} tables and was not made by a benchmark "
                    "(drop it yourself, or name another with --database)"
                )
            if recreate:
                admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
                exists = False
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            _log(f"created database {name}")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE TABLE IF NOT EXISTS {} (created_at timestamptz DEFAULT now())").format(
                sql.Identifier(OWNER_TABLE)
            )
        )
    return url


def finish(url: str, *, keep: bool) -> None:
    """Drop the benchmark's database after the run unless it is kept (only ever a ``bench_*`` one)."""
    name = check_name(psycopg.conninfo.conninfo_to_dict(url)["dbname"])
    if keep:
        _log(f"kept database {name} (--drop-database to drop it after the run)")
        return
    info = psycopg.conninfo.conninfo_to_dict(url)
    with psycopg.connect(**{**info, "dbname": "postgres"}, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    _log(f"dropped database {name}")
