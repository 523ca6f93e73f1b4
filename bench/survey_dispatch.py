"""Survey dispatch throughput through a real Celery worker (file e-mail backend).

Usage (from the repository root, PostgreSQL and Redis running):

    .venv/bin/python bench/survey_dispatch.py --surveys 500 --concurrency 2

It creates its own database (``--database``, default ``bench_survey_dispatch``; see ``bench/_db.py``: only a
``bench_*`` database, on ``DATABASE_URL``'s server, dropped after the run unless ``--keep-database``) and migrates it, resolves ``--surveys`` e-mail interactions through the lifecycle services (each writes
its survey, due in an hour), makes them all due, lets the outbox sweep publish them to a queue of its own, starts a
worker (``--concurrency`` processes, e-mails written to a temporary directory) and times until every survey is
sent. Prints surveys/s. Not part of the test suite.
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _db  # noqa: E402  (bench/_db.py: the benchmark's own database)


def resolve_interactions(count: int) -> int:
    """Resolve ``count`` e-mail interactions through the lifecycle services; each writes its survey (pending, due
    after ``SURVEY_DISPATCH_DELAY``). Surveys of earlier runs still pending are marked failed first. Returns
    ``count``. Needs Django set up (``main`` does it; the smoke test runs it in the test database)."""
    from django.contrib.auth import get_user_model

    from agents.models import Agent, Team
    from contacts.models import Customer
    from crm.choices import SurveyStatus
    from crm.interactions import services as lifecycle
    from crm.routing.models import Queue
    from crm.surveys.models import Survey

    Survey.objects.filter(status=SurveyStatus.PENDING).update(status=SurveyStatus.FAILED, last_error="old bench run")
    team, _ = Team.objects.get_or_create(name="Bench team")
    queue_row, _ = Queue.objects.get_or_create(name="Bench e-mail", defaults={"channels": ["email"]})
    user, _ = get_user_model().objects.get_or_create(username="bench-agent")
    agent, _ = Agent.objects.get_or_create(
        user=user, defaults={"name": "Bench", "team": team, "capacity": {"email": 10**6}}
    )
    for n in range(count):
        customer = Customer.objects.create(name=f"Bench {n}", email=f"bench-{uuid.uuid4().hex[:10]}@example.com")
        interaction = lifecycle.interaction_create_inbound(channel="email", customer=customer, queue=queue_row)
        interaction = lifecycle.interaction_assign(interaction=interaction, agent=agent)
        interaction = lifecycle.interaction_accept(interaction=interaction)
        lifecycle.interaction_resolve(interaction=interaction)
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _db.add_arguments(parser, default="bench_survey_dispatch", keep=False)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--surveys", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args()
    args.database_url = _db.prepare(args.database)
    try:
        run(args)
    finally:
        _db.finish(args.database_url, keep=args.keep_database)


def run(args: argparse.Namespace) -> None:
    queue = f"bench-surveys-{uuid.uuid4().hex[:8]}"
    mail_dir = Path(tempfile.mkdtemp(prefix="sb-bench-mail-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"),
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "CELERY_BROKER_URL": args.redis_url,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "EMAIL_URL": "filemail://",
        "EMAIL_FILE_PATH": str(mail_dir),
        "SURVEY_DISPATCH_DELAY": "3600",
        "SURVEY_FREQUENCY_CAP_DAYS": "0",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from crm.choices import SurveyStatus
    from crm.surveys.models import Survey
    from crm.surveys.services import survey_publish_due

    started = time.monotonic()
    resolve_interactions(args.surveys)
    print(f"resolved {args.surveys} interactions in {time.monotonic() - started:.1f} s")
    Survey.objects.filter(status=SurveyStatus.PENDING).update(dispatch_after=timezone.now(), leased_until=None)
    published = 0
    while True:
        batch = survey_publish_due()
        published += batch
        if not batch:
            break
    print(f"published {published} surveys to {queue}")

    worker = subprocess.Popen(  # noqa: S603 (our own command line)
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "--concurrency", str(args.concurrency)]
        + ["-l", "warning", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        first_sent = None
        while True:
            pending = Survey.objects.filter(status=SurveyStatus.PENDING).count()
            if first_sent is None and pending < published:
                first_sent = time.monotonic()
            if pending == 0:
                break
            time.sleep(0.05)
        elapsed = time.monotonic() - first_sent
        sent = sum(path.read_text().count("\nSubject: ") for path in mail_dir.glob("*.log"))
        print(
            f"{published} surveys sent in {elapsed:.2f} s from the first: {published / elapsed:.0f} surveys/s "
            f"({args.concurrency} worker processes; {sent} e-mails written)"
        )
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(20)


if __name__ == "__main__":
    main()
