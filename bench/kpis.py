"""KPI report benchmark: the selectors against the raw SQL of the same statements, over a million interactions.

Usage (from the repository root, PostgreSQL running):

    .venv/bin/python bench/kpis.py                      # generate if needed, then time the reports
    .venv/bin/python bench/kpis.py --regenerate --interactions 200000
    .venv/bin/python bench/kpis.py --explain            # also print EXPLAIN (ANALYZE, BUFFERS) of each statement
    .venv/bin/python bench/kpis.py --replica            # the reports API with and without a read replica
                                                        # (its own PostgreSQL pair: bench/kpis_replica.py)

What it does:

1. Database (``--database``, default ``bench_kpis``; see ``bench/_db.py``: only a ``bench_*`` database, on
   ``DATABASE_URL``'s server, kept after the run unless ``--drop-database``): created if missing, ``migrate``d,
   then filled by ``INSERT … SELECT generate_series`` (secondary indexes dropped during the load and rebuilt
   after, then ``ANALYZE``) with ``--interactions`` interactions (1,000,000) spread over 180 days,
   oldest first, 200 agents in 4 teams, 8 queues, 100,000 customers; 40 % voice, 25 % chat, 20 % email, 10 % SMS,
   5 % social; 6 % abandoned, the last hour still queued, the rest resolved with random waits and handle times,
   10 categories, due times; CSAT surveys on 15 % of resolved contacts (answered 60 %), NPS and CES on 5 %;
   a ``transferred`` event on 4 % of handled contacts. A database that already holds enough interactions is
   reused (``--regenerate`` forces a rebuild).
2. The hourly rollup (``reporting.rollups.kpi_rollup_refresh``) and the per-agent one
   (``reporting.rollups_people.kpi_people_refresh``): the first, full refresh and a second one each (what the
   per-minute beat task costs when little changed), timed.
3. The reports, as the API and the dashboard run them (``reporting.selectors.kpi_rows``): for a staff viewer
   (a) the 30-day summary grouped by queue, (b) the 7-day series by hour (UTC, and Berlin); then over the last
   30, 90 and 180 days (c) an agent's own summary and (d) their team's supervisor's summary by agent (the team's
   queues or agents). Each through the rollups and read raw (``use_rollup=False``: the figures before the
   per-agent rollup), run ``--repeat`` times after a warm-up; medians reported.
4. The ceiling: the very SQL statements the selector sent (captured), executed with a bare cursor on the same
   connection and fetched, no ORM around them: the ratio says what Django and our Python cost on top.

Not part of the test suite.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _db  # noqa: E402  (bench/_db.py: the benchmark's own database)
from api_ingest import indexes_dropped, manage  # noqa: E402  (the sibling benchmark's helpers)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = "bench_kpis"
AGENTS = 200
TEAMS = 4
QUEUES = 8
CUSTOMERS = 100_000
HISTORY_DAYS = 180


def _log(message: str) -> None:
    print(message, flush=True)


def generate(url: str, *, interactions: int, customers: int = CUSTOMERS) -> None:
    started = t = time.monotonic()

    def step(label: str) -> None:
        nonlocal t
        now = time.monotonic()
        _log(f"  {label}: {now - t:.1f} s")
        t = now

    _db.assert_scratch(psycopg.conninfo.conninfo_to_dict(url)["dbname"])
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '512MB'")
        cur.execute("SET synchronous_commit = off")
        cur.execute("SET session_replication_role = replica")  # rows are generated consistent: no FK triggers
        cur.execute("SELECT setseed(0.42)")
        cur.execute(
            "TRUNCATE crm_surveyresponse, crm_survey, crm_interactionevent, crm_interaction, contacts_contactidentity,"
            " contacts_customer, agents_agentstatuslog, agents_agent, crm_queue, agents_team RESTART IDENTITY CASCADE"
        )
        cur.execute("DELETE FROM auth_user WHERE username LIKE 'kpi-agent-%%'")
        cur.execute(
            "INSERT INTO agents_team (name, description, created_at)"
            " SELECT 'Team ' || g, '', now() FROM generate_series(1, %s) g",
            [TEAMS],
        )
        cur.execute(
            """
            INSERT INTO crm_queue (name, description, channels, priority, service_level_seconds, service_level_target,
                                   accept_timeout_seconds, auto_accept, surveys_enabled, survey_kind, is_active,
                                   created_at, team_id)
            SELECT 'Queue ' || g, '', '{voice,chat,email,sms,social}', 5, CASE WHEN g %% 2 = 0 THEN 20 ELSE 30 END,
                   0.8, 30, false, true, 'csat', true, now(), (SELECT min(id) FROM agents_team) + (g - 1) %% %s
            FROM generate_series(1, %s) g
            """,
            [TEAMS, QUEUES],
        )
        cur.execute(
            """
            INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff,
                                   is_active, date_joined)
            SELECT '!', false, 'kpi-agent-' || g, 'Agent', g::text, '', false, true, now()
            FROM generate_series(1, %s) g
            """,
            [AGENTS],
        )
        cur.execute(
            """
            INSERT INTO agents_agent (name, capacity, status, is_active, created_at, updated_at, user_id, team_id)
            SELECT 'Agent ' || u.last_name, '{"voice": 1, "chat": 3, "email": 5}', 'offline', true, now(), now(),
                   u.id, (SELECT min(id) FROM agents_team) + (row_number() OVER (ORDER BY u.id)) %% %s
            FROM auth_user u WHERE u.username LIKE 'kpi-agent-%%'
            """,
            [TEAMS],
        )
        cur.execute(
            """
            INSERT INTO contacts_customer (name, email, phone, language, timezone, tier, tags, attributes,
                                           survey_opt_out, marketing_consent, created_at, updated_at)
            SELECT 'KPI Customer ' || g, 'kpi' || g || '@example.com', '', 'en', 'UTC', 'standard', '{}', '{}',
                   false, false, now() - interval '1 year', now() - interval '1 year'
            FROM generate_series(1, %s) g
            """,
            [customers],
        )
        step("reference data")
        with indexes_dropped(cur, "crm_interaction"):
            cur.execute(
                """
                WITH ids AS (
                    SELECT (SELECT min(id) FROM contacts_customer) AS c0, (SELECT count(*) FROM contacts_customer) AS cn,
                           (SELECT min(id) FROM agents_agent) AS a0, (SELECT min(id) FROM crm_queue) AS q0
                ), base AS (
                    SELECT g, now() - make_interval(secs => (%(n)s - g) * %(spacing)s) AS created,
                           random() AS r_channel, random() AS r_outcome, random() AS r_wait, random() AS r_talk,
                           random() AS r_hold, random() AS r_wrap, random() AS r_cat, random() AS r_cust,
                           random() AS r_resp
                    FROM generate_series(1, %(n)s::bigint) g
                ), shaped AS (
                    SELECT b.*,
                           CASE WHEN r_channel < 0.40 THEN 'voice' WHEN r_channel < 0.65 THEN 'chat'
                                WHEN r_channel < 0.85 THEN 'email' WHEN r_channel < 0.95 THEN 'sms' ELSE 'social' END
                               AS channel,
                           CASE WHEN created > now() - interval '1 hour' THEN 'queued'
                                WHEN r_outcome < 0.06 THEN 'abandoned' ELSE 'resolved' END AS status,
                           make_interval(secs => -ln(1 - r_wait) * 25) AS wait,
                           (90 + r_talk * 420)::int AS talk, CASE WHEN r_hold < 0.3 THEN (r_hold * 300)::int ELSE 0 END
                               AS hold, (15 + r_wrap * 60)::int AS wrap
                    FROM base b
                )
                INSERT INTO crm_interaction (
                    customer_id, channel, direction, queue_id, subject, status, priority, agent_id, external_id,
                    disposition, category, tags, follow_up_of_id, created_at, queued_at, assigned_at, accepted_at,
                    first_response_at, resolved_at, closed_at, abandoned_at, updated_at, first_response_due_at,
                    resolution_due_at, talk_seconds, hold_seconds, wrap_up_seconds)
                SELECT ids.c0 + floor(power(r_cust, 1.5) * ids.cn)::bigint, channel, 'inbound',
                       ids.q0 + g %% %(queues)s, 'KPI interaction ' || g, status, 2,
                       CASE WHEN status = 'resolved' THEN ids.a0 + (g * 7) %% %(agents)s END, '',
                       CASE WHEN status = 'resolved' THEN (ARRAY['solved', 'refund', 'escalated', 'info', 'callback'])
                            [1 + (g %% 5)] ELSE '' END,
                       (ARRAY['billing', 'shipping', 'returns', 'account', 'technical', 'sales', 'complaint',
                              'delivery', 'password', 'other'])[1 + floor(r_cat * 10)::int], '{}', NULL,
                       created, created,
                       CASE WHEN status = 'resolved' THEN created + wait END,
                       CASE WHEN status = 'resolved' THEN created + wait END,
                       CASE WHEN status = 'resolved' THEN created + wait + make_interval(secs =>
                            CASE WHEN channel IN ('voice', 'chat') THEN 5 ELSE r_resp * 14400 END) END,
                       CASE WHEN status = 'resolved' THEN created + wait + make_interval(secs => talk + hold + wrap
                            + CASE WHEN channel IN ('voice', 'chat') THEN 0 ELSE r_resp * 28800 END) END,
                       NULL,
                       CASE WHEN status = 'abandoned' THEN created + make_interval(secs => 10 + r_wait * 150) END,
                       created,
                       created + CASE WHEN channel IN ('voice', 'chat') THEN interval '2 minutes' ELSE interval '4 hours' END,
                       created + interval '1 day',
                       CASE WHEN status = 'resolved' THEN talk ELSE 0 END,
                       CASE WHEN status = 'resolved' THEN hold ELSE 0 END,
                       CASE WHEN status = 'resolved' THEN wrap ELSE 0 END
                FROM shaped, ids
                """,
                {
                    "n": interactions,
                    "spacing": HISTORY_DAYS * 86400 / max(1, interactions),
                    "queues": QUEUES,
                    "agents": AGENTS,
                },
            )
            step(f"{interactions:,} interactions")
        step("interaction indexes rebuilt")
        cur.execute(
            """
            INSERT INTO crm_interactionevent (interaction_id, kind, from_status, to_status, actor_id, agent_id, at, data)
            SELECT id, 'transferred', 'active', 'queued', NULL, agent_id, accepted_at + interval '1 minute', '{}'
            FROM crm_interaction WHERE accepted_at IS NOT NULL AND random() < 0.04
            """
        )
        for kind, share in (("csat", 0.15), ("nps", 0.05), ("ces", 0.05)):
            cur.execute(
                """
                INSERT INTO crm_survey (interaction_id, kind, token, status, channel, attempts, last_error,
                                        suppressed_reason, sent_at, created_at)
                SELECT id, %(kind)s::text, %(kind)s::text || '-' || id, 'sent', channel, 1, '', '', resolved_at,
                       resolved_at
                FROM crm_interaction WHERE resolved_at IS NOT NULL AND random() < %(share)s
                """,
                {"kind": kind, "share": share},
            )
        cur.execute(
            """
            INSERT INTO crm_surveyresponse (survey_id, score, comment, answered_at)
            SELECT s.id, CASE s.kind WHEN 'csat' THEN 1 + floor(random() * 5) WHEN 'nps' THEN floor(random() * 11)
                              ELSE 1 + floor(random() * 7) END, '', s.sent_at + interval '1 hour'
            FROM crm_survey s WHERE random() < 0.6
            """
        )
        step("events and surveys")
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    step("VACUUM ANALYZE")
    _log(f"generated in {time.monotonic() - started:.1f} s")


def prepare(url: str, *, interactions: int, regenerate: bool, env: dict[str, str]) -> None:
    manage("migrate", "--noinput", env=env)
    with psycopg.connect(url) as conn:
        present = conn.execute("SELECT count(*) FROM crm_interaction").fetchone()[0]
    if present >= interactions and not regenerate:
        _log(f"reusing the database: {present:,} interactions")
        return
    _log(f"generating {interactions:,} interactions…")
    generate(url, interactions=interactions)


def measure(repeat: int, explain: bool) -> None:
    import django

    django.setup()
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from agents.access import Viewer
    from agents.models import Agent
    from reporting.rollups import kpi_rollup_refresh
    from reporting.rollups_people import kpi_people_refresh
    from reporting.selectors import KpiQuery, kpi_rows

    started = time.perf_counter()
    hours = kpi_rollup_refresh()
    _log(f"rollup refresh: {hours:,} rows in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    hours = kpi_rollup_refresh()
    _log(
        f"rollup refresh again (the per-minute beat run): {hours} rows in {(time.perf_counter() - started) * 1000:.0f} ms"
    )

    started = time.perf_counter()
    rows = kpi_people_refresh()
    _log(f"per-agent rollup refresh: {rows:,} rows in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    rows = kpi_people_refresh()
    _log(f"per-agent rollup refresh again: {rows} rows in {(time.perf_counter() - started) * 1000:.0f} ms")

    staff = Viewer(unrestricted=True, team_ids=frozenset())
    # the busiest agent (their own figures) and the supervisor of the first team (its queues and its agents' work)
    agent_id, team_id = Agent.objects.filter(team__isnull=False).order_by("pk").values_list("pk", "team_id")[0]
    agent = Viewer(unrestricted=False, team_ids=frozenset({team_id}), agent_id=agent_id, user_id=0)
    supervisor = Viewer(unrestricted=False, team_ids=frozenset({team_id}), is_supervisor=True, user_id=0)
    now = timezone.now()
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    reports = {
        "30-day summary by queue": (staff, KpiQuery(today - timedelta(days=30), today, group_by="queue", tz="UTC")),
        "7-day series by hour": (staff, KpiQuery(today - timedelta(days=7), today, group_by="hour", tz="UTC")),
        "7-day series by hour, Berlin": (
            staff,
            KpiQuery(today - timedelta(days=7), today, group_by="hour", tz="Europe/Berlin"),
        ),
    }
    for days in (30, 90, 180):
        reports[f"agent's own {days}-day summary"] = (agent, KpiQuery(now - timedelta(days=days), now, tz="UTC"))
        reports[f"team supervisor's {days}-day summary by agent"] = (
            supervisor,
            KpiQuery(now - timedelta(days=days), now, group_by="agent", tz="UTC"),
        )
    for label, (viewer, query) in reports.items():
        for use_rollup in (True, False):
            if not use_rollup and repeat > 3:
                runs = 3  # the raw path is slow: fewer runs
            else:
                runs = repeat
            kpi_rows(viewer=viewer, query=query, now=now, use_rollup=use_rollup)  # warm-up: caches, plans, buffers
            with CaptureQueriesContext(connection) as captured:
                rows = kpi_rows(viewer=viewer, query=query, now=now, use_rollup=use_rollup)
            # replayed inside one transaction, as the selector ran them (SET LOCAL jit = off included)
            statements = [q["sql"] for q in captured.captured_queries if q["sql"] not in ("BEGIN", "COMMIT")]
            selector, raw = [], []
            for _ in range(runs):
                started = time.perf_counter()
                kpi_rows(viewer=viewer, query=query, now=now, use_rollup=use_rollup)
                selector.append(time.perf_counter() - started)
                started = time.perf_counter()
                with transaction.atomic(), connection.cursor() as cursor:
                    for sql in statements:
                        cursor.execute(sql)
                        if cursor.description is not None:
                            cursor.fetchall()
                raw.append(time.perf_counter() - started)
            s, r = statistics.median(selector) * 1000, statistics.median(raw) * 1000
            offered = sum(row["offered"] or 0 for row in rows)
            _log(
                f"{label} ({'rollup' if use_rollup else 'raw'}): {len(rows)} rows, {offered:,} interactions, "
                f"{len(statements)} statements — selector {s:.0f} ms (min {min(selector) * 1000:.0f}), "
                f"raw SQL {r:.0f} ms (min {min(raw) * 1000:.0f}), ratio {s / r:.2f}"
            )
            if explain:
                with connection.cursor() as cursor:
                    for sql in statements:
                        if not sql.startswith("SELECT"):
                            continue
                        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                        _log("\n".join(line for (line,) in cursor.fetchall()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    _db.add_arguments(parser, default=DEFAULT_DATABASE, keep=True)
    parser.add_argument("--interactions", type=int, default=None, help="default 1,000,000 (200,000 with --replica)")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--generate-only", action="store_true")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument(
        "--replica", action="store_true", help="the reports API on its own primary, then with a streaming replica"
    )
    parser.add_argument("--clients", type=int, default=8, help="--replica: concurrent clients")
    parser.add_argument("--seconds", type=float, default=20.0, help="--replica: length of each run")
    args = parser.parse_args()
    if args.replica:
        from kpis_replica import run_replica

        run_replica(interactions=args.interactions or 200_000, clients=args.clients, seconds=args.seconds)
        return
    args.interactions = args.interactions or 1_000_000
    args.database_url = _db.prepare(args.database)
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_POOL_MAX_SIZE": "0",
    }
    os.environ.update(env)
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    try:
        prepare(args.database_url, interactions=args.interactions, regenerate=args.regenerate, env=env)
        if not args.generate_only:
            _log(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
            measure(args.repeat, args.explain)
    finally:
        _db.finish(args.database_url, keep=args.keep_database)


if __name__ == "__main__":
    main()
