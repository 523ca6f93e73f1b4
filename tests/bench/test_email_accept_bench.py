"""``bench/email_accept_cpu.py`` at a tiny size against the test database, so it does not rot: both sides answer
through their WSGI handlers, the counts of one request are what the endpoint costs, and the drain imports every
mail it measured."""

import time
import uuid

import psycopg
import pytest
import redis
from django.conf import settings as django_settings

from config import rowcache
from config.celery import app as celery_app

from .test_bench_smoke import bench_module, count, database_url  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def own_queue(settings, tmp_path):
    """Drain requests go to a broker queue nobody reads (the bench drains by itself), attachments to the test's
    directory; the ceiling's table exists for the bare view."""
    settings.MEDIA_ROOT = tmp_path / "media"
    previous, queue = celery_app.conf.task_default_queue, f"test-accept-bench-{uuid.uuid4().hex[:10]}"
    celery_app.conf.task_default_queue = queue
    yield
    celery_app.conf.task_default_queue = previous
    redis.Redis.from_url(django_settings.CELERY_BROKER_URL).delete(queue)


def test_email_accept_cpu_measures_both_sides_and_the_drain(own_cache_generation, database_url, own_queue):  # noqa: F811
    from crm.inboxes.services.queued import drain_starting

    email_ingest, bench = bench_module("email_ingest"), bench_module("email_accept_cpu")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_email_ceiling"
            " (id bigserial PRIMARY KEY, raw bytea NOT NULL, received_at timestamptz NOT NULL)"
        )
    inbox, _ = email_ingest.make_center(agents=1, capacity=40, mode="queued")
    rowcache.clear_local()  # the warm-up reads the cache generation now: the 5-s window starts here
    drain_starting(inbox_id=inbox.pk)  # no mark left by another run: the first mail publishes
    try:
        sides = bench.Sides(inbox.token)
        warm, mails = (
            email_ingest.generate_mails(2, prefix="w"),
            email_ingest.generate_mails(9, prefix="m", reply_lag=2),
        )
        for mail in warm:
            assert sides.call("endpoint", mail.raw) == 202 and sides.call("bare", mail.raw) == 201
        time.sleep(0.3)  # the requester thread asked for their drain (config.coalesced)

        status, sql, commands = bench.cost_of_one(sides, "endpoint", mails[0].raw)
        assert status == 202 and len(sql) == 1 and sql[0].startswith('INSERT INTO "crm_inboundreceipt"')
        names = [command.split()[0] for command in commands]
        # no cache check (the warm-up read the generation less than 5 s ago: the INSERT checks the inbox itself); the
        # drain's mark is the requester thread's SET NX, counted only when its turn falls inside
        assert [name for name in names if name != "SET"] == [] and names.count("SET") <= 1
        burst = email_ingest.generate_mails(5, prefix="b")
        commands = bench.redis_per_request(sides, "endpoint", burst)
        assert "GET" not in commands and commands.get("SET", 0) < 1  # the drain's mark: once per turn of its thread
        status, sql, commands = bench.cost_of_one(sides, "bare", mails[0].raw)
        assert status == 201 and len(sql) == 1 and sql[0].startswith("INSERT INTO bench_email_ceiling") and not commands

        cpu = bench.measure_acceptance(sides, mails[1:], blocks=2)
        assert all(len(values) == 2 and min(values) > 0 for values in cpu.values())
        drained, per_mail = bench.measure_drain(inbox.pk, profile=False)
        assert drained == 2 + 1 + 5 + 8 and per_mail > 0  # the warm-up, the one counted, the burst, the measured
        assert count(database_url, "SELECT count(*) FROM crm_inboundreceipt WHERE status = 'imported'") == 16
        assert count(database_url, "SELECT count(*) FROM bench_email_ceiling") == 11
    finally:
        drain_starting(inbox_id=inbox.pk)
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS bench_email_ceiling")
