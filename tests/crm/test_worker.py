"""Through real Celery processes on the real Redis broker: a worker (and beats) in subprocesses.

Each test has a broker queue of its own, so it neither steals nor receives other tests' messages. The data is
committed (transactional tests) so the worker, with its own connections, sees it.
"""

import email
import email.policy
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.utils import timezone

from config.beat import lock_key
from config.coalesced import flush_pending_requests
from config.tasks import task_named
from crm.choices import InteractionStatus, SurveyStatus, WebhookDeliveryStatus
from crm.interactions import services as lifecycle
from crm.interactions.models import Interaction, Message
from crm.privacy.models import RetentionPolicy
from crm.surveys.models import Survey, SurveyResponse
from crm.webhooks.models import WebhookAttempt, WebhookDelivery
from crm.webhooks.services import webhook_emit
from tests.contacts.factories import CustomerFactory
from tests.crm.factories import QueueFactory, WebhookFactory, interaction_in_status

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def wait_for(condition, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _env(queue: str, mail_dir: Path, instance: str | None = None) -> dict:
    """The worker's environment; ``instance``: its ``SWITCHBOARD_INSTANCE`` (the Redis keys of its caches' generation
    and of its pending runs), which the test then shares (``worker``)."""
    db = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DEBUG": "false",
        "SECRET_KEY": django_settings.SECRET_KEY,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "DATABASE_POOL_MAX_SIZE": "0",
        "REDIS_URL": django_settings.REDIS_URL,
        "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "EMAIL_URL": "filemail://",
        "EMAIL_FILE_PATH": str(mail_dir),
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "SWITCHBOARD_RETENTION_BATCH_SIZE": "1",  # the retention run comes back for each row: a chain of tasks
        "LOG_LEVEL": "WARNING",
        **({"SWITCHBOARD_INSTANCE": instance} if instance else {}),
    }


@pytest.fixture(scope="module")
def broker():
    client = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    yield client
    client.close()


def start(args, env, log: Path) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 (our own command line)
        [sys.executable, "-m", "celery", "-A", "config", *args],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own group: the teardown stops the pool children with it
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


@pytest.fixture(scope="module")
def worker_process(tmp_path_factory, django_db_setup, django_db_blocker):
    """One worker for the module's tests (starting one takes seconds), on a queue of its own."""
    yield from running_worker(tmp_path_factory, django_db_blocker, concurrency=1)


def running_worker(tmp_path_factory, django_db_blocker, *, concurrency: int):
    """A worker of ``concurrency`` prefork processes on a queue of its own, stopped when the generator ends."""
    queue = f"test-worker-{uuid.uuid4().hex[:12]}"
    tmp = tmp_path_factory.mktemp("worker")
    with django_db_blocker.unblock():
        env = _env(queue, tmp / "mail", instance=queue)
    args = ["worker", "-Q", queue, "--concurrency", str(concurrency), "--pool", "prefork", "-l", "warning"]
    process = start([*args, "--without-gossip", "--without-mingle", "--without-heartbeat"], env, tmp / "worker.log")
    process.queue, process.mail_dir, process.instance = queue, tmp / "mail", queue
    yield process
    stop(process)
    redis.Redis.from_url(django_settings.CELERY_BROKER_URL).delete(queue)


@pytest.fixture
def worker(worker_process, publish_to, settings):
    """The module's worker, and this test's changes asking it for their runs. The two share an installation name of
    their own: another test process on the same Redis asking for a routing run (one pending mark per installation)
    would otherwise keep this test's changes from asking for theirs."""
    assert worker_process.poll() is None, "the worker died"
    settings.SWITCHBOARD_INSTANCE = worker_process.instance
    _forget_pending_runs()
    publish_to(worker_process.queue)
    yield worker_process
    _wait_for_the_worker_to_settle(worker_process.queue)


QUIET_SECONDS = 0.5


def _wait_for_the_worker_to_settle(queue: str, timeout: float = 15) -> None:
    """The test is over but the worker may still be at work its changes asked for (a routing run, a drain): the
    flush that empties the tables after the test would deadlock with it. Make the runs still to be asked for (this
    process's requester thread asks within 0.1 s), then wait until, for ``QUIET_SECONDS`` on end, the worker's queue
    is empty and no other session of this database is inside a statement or a transaction."""
    flush_pending_requests()
    client = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    deadline = time.monotonic() + timeout
    quiet_since = None
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND state IS NOT NULL AND state <> 'idle'"
            )
            busy = client.llen(queue) or cursor.fetchone()[0]
        if busy:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        # quiet for longer than a requester thread takes to ask for a run the worker's last commit wants (0.1 s:
        # a drain's routing run), and for the worker to take it: one quiet look fell in that gap and the flush
        # deadlocked with the run that followed
        elif time.monotonic() - quiet_since >= QUIET_SECONDS:
            return
        time.sleep(0.1)


def _forget_pending_runs() -> None:
    """A run an earlier test of the module asked for and the worker has not started (config.coalesced's "pending"
    marks: routing, e-mail drains; e.g. its child was killed) would keep this test's changes from asking for theirs
    until the mark expires; with no beat here to catch up, they would never run."""
    client = redis.Redis.from_url(django_settings.REDIS_URL)
    for key in client.scan_iter(f"{django_settings.SWITCHBOARD_INSTANCE}:*-pending*"):
        client.delete(key)


def pool_children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_resolve_survey_email_answer_through_a_real_worker(worker, settings, client):
    settings.SURVEY_DISPATCH_DELAY = 0
    interaction = interaction_in_status(
        InteractionStatus.ACTIVE,
        channel="email",
        customer=CustomerFactory(name="Grace", email="grace@example.com"),
        queue=QueueFactory(channels=["email"]),
    )
    lifecycle.interaction_resolve(interaction=interaction, disposition="solved")

    wait_for(lambda: Survey.objects.filter(status=SurveyStatus.SENT).exists(), what="the survey to be sent")
    mail_dir = worker.mail_dir
    [mail_file] = wait_for(lambda: list(mail_dir.glob("*.log")), what="the e-mail file")
    raw = mail_file.read_text().split("\n" + "-" * 79)[0]
    message = email.message_from_string(raw, policy=email.policy.default)
    assert message["To"] == "grace@example.com"
    assert message.get_body(("html",)) is not None
    text = message.get_body(("plain",)).get_content()
    path = re.search(r"https?://[^/\s]+(/s/[^\s]+/)", text).group(1)

    page = client.get(path)
    assert page.status_code == 200 and 'name="score"' in page.content.decode()
    assert client.post(path, {"score": "5", "comment": "Lovely"}).status_code == 200
    answer = SurveyResponse.objects.get()
    assert (answer.score, answer.comment, answer.survey.interaction_id) == (5, "Lovely", interaction.pk)


def test_a_worker_killed_mid_task_runs_it_again_and_the_effect_happens_once(worker, receiver):
    receiver.hold = True  # the first POST hangs: the worker is caught in the middle of its task
    WebhookFactory(url=receiver.url)
    with transaction.atomic():
        [delivery] = webhook_emit(type="interaction.created", data={"interaction": {"id": 1}})

    assert receiver.arrived.wait(30), "the worker never called the receiver"
    [child] = pool_children(worker.pid)
    os.kill(child, signal.SIGKILL)
    receiver.release.set()

    wait_for(
        lambda: WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDeliveryStatus.DELIVERED).exists(),
        what="the redelivered task to deliver",
    )
    assert len(receiver.requests) == 2
    assert {r["headers"]["Switchboard-Event-Id"] for r in receiver.requests} == {str(delivery.event_id)}
    delivery.refresh_from_db()
    # the killed run left nothing behind: one attempt, one delivery
    assert delivery.attempts == 1
    assert list(WebhookAttempt.objects.filter(delivery=delivery).values_list("status_code", flat=True)) == [200]
    assert worker.poll() is None


def test_two_beats_send_each_periodic_run_once(broker, publish_to, tmp_path):
    queue = f"test-beat-{uuid.uuid4().hex[:12]}"
    env = _env(queue, tmp_path / "mail")
    broker.delete(lock_key())
    beats = [
        start(["beat", "-l", "info", "--schedule", str(tmp_path / f"beat{n}")], env, tmp_path / f"b{n}.log")
        for n in range(2)
    ]
    sent: dict[str, list[float]] = {}
    client = broker
    try:
        # from the first message on (the beats take a few seconds to start), 7 s of runs
        first, give_up = None, time.monotonic() + 30
        while first is None and time.monotonic() < give_up:
            first = client.brpop(queue, timeout=1)
        assert first, "no beat sent anything"
        sent[json.loads(first[1])["headers"]["task"]] = [time.monotonic()]
        deadline = time.monotonic() + 7
        while time.monotonic() < deadline:
            item = client.brpop(queue, timeout=1)
            if item:
                task = json.loads(item[1])["headers"]["task"]
                sent.setdefault(task, []).append(time.monotonic())
        assert all(beat.poll() is None for beat in beats), "a beat exited instead of waiting for the lock"
    finally:
        for beat in beats:
            stop(beat)
        client.delete(queue)
    assert len(sent.get("crm.tasks.webhook_publish_due_task", [])) >= 2, sent
    intervals = {
        "crm.tasks.webhook_publish_due_task": 3.0,
        "crm.tasks.route_pending_task": 5.0,
        "crm.tasks.survey_publish_due_task": 5.0,
    }
    for task, interval in intervals.items():
        times = sent.get(task, [])
        assert times, f"{task} never ran"
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        # two beats would each send it: pairs of runs moments apart
        assert all(gap > interval * 0.7 for gap in gaps), f"{task} was sent twice within {min(gaps):.2f} s"


def test_the_retention_run_blanks_old_work_in_batches_through_a_real_worker(worker):
    work = interaction_in_status(InteractionStatus.ACTIVE, channel="chat", queue=QueueFactory(channels=["chat"]))
    for body in ("my address is Elm Street 5", "thanks, noted"):
        lifecycle.message_create(interaction=work, direction="outbound", body=body)
    lifecycle.interaction_resolve(interaction=work, disposition="solved")
    Interaction.objects.filter(pk=work.pk).update(resolved_at=timezone.now() - timedelta(days=400))
    policy = RetentionPolicy.objects.create(name="Chat transcripts", target="messages", channel="chat", age_days=365)
    count = Message.objects.filter(interaction=work).exclude(body="").count()
    assert count >= 2

    task_named("crm.tasks.retention_run_task").delay()  # what the beat sends once a day

    wait_for(lambda: not Message.objects.filter(interaction=work).exclude(body="").exists(), what="the bodies gone")
    wait_for(lambda: RetentionPolicy.objects.get(pk=policy.pk).removed_total == count, what="the count recorded")
    assert Interaction.objects.get(pk=work.pk).status == InteractionStatus.RESOLVED


def test_an_erasure_whose_worker_is_killed_mid_run_is_finished_by_the_sweep(worker):
    """The worker is stopped for good in the middle of an erasure (blocked at the profile step by a row lock, then
    SIGKILLed): the steps it committed stand, the sweep runs the rest, and nothing of the customer is left."""
    import psycopg

    from contacts.models import Customer
    from crm.privacy.models import ErasureRequest
    from crm.privacy.services.erase import STEPS, erasure_due, erasure_request

    customer = CustomerFactory(name="Kim Quist", email="kim.quist@example.com")
    work = interaction_in_status(InteractionStatus.RESOLVED, customer=customer, body="my card ends 4242")
    db = connection.settings_dict
    holder = psycopg.connect(f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}")
    try:
        # another transaction holds the customer's row against updates (not against the foreign-key checks of new
        # rows that name it): the run stops at the step that rewrites the profile
        holder.execute("SELECT 1 FROM contacts_customer WHERE id = %s FOR NO KEY UPDATE", [customer.pk])
        erasure = erasure_request(customer=customer, reason="asked by phone", immediately=True)
        before_profile = [name for name, _ in STEPS][: [name for name, _ in STEPS].index("profile")]
        wait_for(
            lambda: ErasureRequest.objects.filter(pk=erasure.pk, steps_done=before_profile).exists(),
            what="the worker to reach the profile step",
        )
        [child] = pool_children(worker.pid)
        os.kill(child, signal.SIGKILL)
    finally:
        holder.rollback()
        holder.close()

    erasure.refresh_from_db()
    assert erasure.status == "running" and "profile" not in erasure.steps_done  # killed before it committed
    assert not Message.objects.filter(interaction=work, body__contains="4242").exists()  # what it did stands
    erasure_due()  # the beat's sweep
    erasure = wait_for(
        lambda: ErasureRequest.objects.filter(pk=erasure.pk, status="done").first(), what="the erasure to finish"
    )
    assert erasure.steps_done == [name for name, _ in STEPS]  # each step once, in order
    erased = Customer.objects.get(pk=customer.pk)
    assert "Kim" not in erased.name and erased.email != "kim.quist@example.com"
    assert Interaction.objects.filter(pk=work.pk, resolved_at__isnull=False).exists()  # the report's facts remain
    wait_for(lambda: worker.poll() is None and pool_children(worker.pid), what="the pool to replace its child")
