"""E-mail ingest benchmark: 10,000 messages through the raw-MIME endpoint and through IMAP, routed to agents.

Usage (from the repository root, PostgreSQL, Redis and Debian's dovecot-imapd installed):

    .venv/bin/python bench/email_ingest.py                        # 10,000 messages per path, then the ceiling
    .venv/bin/python bench/email_ingest.py --messages 2000 --concurrency 16 --skip-imap
    .venv/bin/python bench/email_ingest.py --messages 1000 --skip-imap --import queued  # store now, import in Celery

What it does:

1. Database (``--database``, default ``bench_email_ingest``; see ``bench/_db.py``): only a ``bench_*`` database, on
   ``DATABASE_URL``'s server, created (re-created when it is a benchmark's from an earlier run), marked as a
   benchmark's (table ``bench_owner``), migrated, and dropped at the end (``--keep-database`` keeps it). A database
   that exists, holds tables and is not marked as a benchmark's is refused: nothing of a database a benchmark did not
   make is ever truncated or dropped.
2. A team, an e-mail queue and ``--agents`` available agents (e-mail capacity ``--capacity`` each, enough for all
   the work), two inboxes (one posted to, one read over IMAP).
3. ``--messages`` generated mails per path: two thirds from new customers, one third replies to earlier ones of the
   same run (``In-Reply-To`` and ``References`` their Message-ID, sent at least ``--reply-lag`` messages after
   them, so the thread exists when the reply arrives); plain text, ~1 KB, a quoted history in the replies.
4. Endpoint: uvicorn (``--workers`` processes, production settings) serving ``config.asgi`` (or, ``--server
   gunicorn``, ``config.wsgi`` under gunicorn's ``--wsgi-class`` workers; ``--server granian``, under granian,
   production's web role); ``--concurrency`` clients POST every
   message as ``message/rfc822`` to ``/inbound/email/<token>/`` over keep-alive connections (``bench/_http.py``,
   a tenth of httpx's CPU per request: the load generator shares the cores with what it measures; ``--client
   httpx`` for the old one). A real Celery worker (``--celery-concurrency`` processes, a queue of its own) routes
   the new interactions, as in production. ``--import queued`` sets the inbox's ``"import": "queued"``: the
   endpoint only stores the raw mail (answer 202) and the worker imports it (``crm.inboxes.services.queued``);
   then the endpoint's msg/s is the acceptance rate, and a "drain" line gives the import's own rate, from the
   first receipt to the last mail imported.
5. IMAP: dovecot started as ``tests/support/dovecot.py`` does it; the messages are APPENDed over one connection
   (not timed), then ``crm.inboxes.services.mailbox.mailbox_poll`` imports them in this process (timed), the same
   worker routing.
6. Ceiling: ``bench/ceiling_app.py``'s ``/ingest-raw`` (one bare INSERT of the raw bytes, same server and
   settings) under the same load; last, or with ``--ceiling-first`` first, on the fresh database (after the import,
   PostgreSQL may still be writing out and vacuuming what it imported, which would slow the bare view's run).

Each phase also prints the load generator's own CPU per message.

For each path: messages/s, the request p50/p99 (endpoint), and the p50/p99 from receipt (the import's
``received_at``) to the message being on a routed interaction: the agent's assignment for new work, the stored
reply for a reply (its interaction was routed before). Checks every message was imported once and every reply
joined its thread. Not part of the test suite (``tests/bench/test_bench_smoke.py`` runs it tiny).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import imaplib
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _db  # noqa: E402  (bench/_db.py: the benchmark's own database)
from _http import RawHttp  # noqa: E402  (a light HTTP/1.1 client for the load)
from api_ingest import manage, server_env, uvicorn  # noqa: E402  (the sibling benchmark's helpers)
from create_vs_helpdesk import granian, gunicorn  # noqa: E402

PYTHON = sys.executable
DEFAULT_DATABASE = "bench_email_ingest"
SUPPORT = "support@bench-acme.test"
WORDS = "account invoice router refund password delivery order warranty screen battery printer cable".split()


def _log(message: str) -> None:
    print(message, flush=True)


# --- the database: only one the benchmark made is ever dropped -----------------------------------------------------


def prepare_database(name: str) -> str:
    """The benchmark's own database (``bench/_db.py``: a ``bench_*`` name, refused otherwise), re-created empty; its URL."""
    url = _db.prepare(name, recreate=True)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_email_ceiling"
            " (id bigserial PRIMARY KEY, raw bytea NOT NULL, received_at timestamptz NOT NULL)"
        )
    return url


# --- the mail --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mail:
    message_id: str  # without angle brackets
    raw: bytes
    parent: str | None  # the Message-ID this one replies to


def generate_mails(count: int, *, prefix: str, reply_lag: int = 200, seed: int = 1) -> list[Mail]:
    """``count`` mails: every third one (from ``reply_lag`` on) replies to a new one sent at least ``reply_lag``
    before it, the others come from new customers. Replies quote the text they answer (trimmed on import)."""
    rng = random.Random(seed)
    mails: list[Mail] = []
    threads: list[tuple[str, str, str]] = []  # (message id, sender, subject) of the new ones, in order sent
    positions: list[int] = []  # each new one's position
    for n in range(count):
        message = EmailMessage()
        message_id = f"{prefix}-{n}@mail.bench-customer.test"
        message["To"] = f"Acme Support <{SUPPORT}>"
        message["Message-ID"] = f"<{message_id}>"
        message["Date"] = "Thu, 03 Dec 2026 09:15:00 +0000"
        text = " ".join(rng.choice(WORDS) for _ in range(150))
        eligible = bisect.bisect_right(positions, n - reply_lag)
        parent = None
        if n % 3 == 2 and eligible:
            parent, sender, subject = threads[rng.randrange(eligible)]
            message["From"] = sender
            message["Subject"] = f"Re: {subject}"
            message["In-Reply-To"] = f"<{parent}>"
            message["References"] = f"<{parent}>"
            text = f"Thanks, one more question: {text}\n\nOn Thu, Acme Support wrote:\n> {text[:300]}\n"
        else:
            sender = f"Customer {n} <customer-{prefix}-{n}@bench-customer.test>"
            subject = f"Question {n} about my {rng.choice(WORDS)}"
            message["From"] = sender
            message["Subject"] = subject
            threads.append((message_id, sender, subject))
            positions.append(n)
        message.set_content(text)
        mails.append(Mail(message_id, message.as_bytes(policy=policy.SMTP), parent))
    return mails


# --- the center --------------------------------------------------------------------------------------------------


def make_center(*, agents: int, capacity: int, imap_url: str = "", mode: str = "immediate"):
    """Team, e-mail queue, available agents and the two inboxes (Django set up). Answers (endpoint, imap) inboxes."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from agents.choices import AgentStatus
    from agents.models import Agent, Team
    from crm.inboxes.services.inboxes import inbox_create
    from crm.routing.models import Queue

    tag = uuid.uuid4().hex[:6]
    team = Team.objects.create(name=f"Bench mail {tag}")
    queue = Queue.objects.create(name=f"Bench mail {tag}", channels=["email"], team=team)
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"bench-mail-{tag}-{n}", password="!")  # noqa: S106 (an unusable password)
        for n in range(agents)
    )
    Agent.objects.bulk_create(
        Agent(
            user=user, name=f"Agent {n}", team=team, capacity={"email": capacity},
            status=AgentStatus.AVAILABLE, status_changed_at=timezone.now(),
        )
        for n, user in enumerate(users)
    )  # fmt: skip
    endpoint = inbox_create(
        name=f"Bench endpoint {tag}", channel="email", queue=queue, settings={"address": SUPPORT, "import": mode}
    )
    imap = None
    if imap_url:
        imap = inbox_create(
            name=f"Bench IMAP {tag}", channel="email", queue=queue, settings={"address": SUPPORT, "imap_url": imap_url}
        )
    return endpoint, imap


# --- running -----------------------------------------------------------------------------------------------------


@dataclass
class Phase:
    label: str
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # request latencies (endpoint)
    routed: list[float] = field(default_factory=list)  # receipt → on a routed interaction
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    count: int = 0
    check: str = ""
    client_cpu: float = 0.0  # CPU seconds the load generator (this process) spent

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0


def percentile(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) < 2:
        return values[0] * 1000
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


async def post_mails(url: str, mails: list[Mail], *, concurrency: int, label: str, client: str = "raw") -> Phase:
    """POST each mail's bytes to ``url`` in order, ``concurrency`` at a time (``client``: ``raw``, the light
    ``RawHttp``, or ``httpx``)."""
    phase = Phase(label)
    pending = iter(mails)
    content_type = "message/rfc822"
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as shared:

        async def worker() -> None:
            connection = RawHttp(url) if client == "raw" else None
            for mail in pending:
                started = time.monotonic()
                try:
                    if connection is not None:
                        status, body = await asyncio.wait_for(connection.post(mail.raw, content_type), 60)
                    else:
                        response = await shared.post(url, content=mail.raw, headers={"Content-Type": content_type})
                        status, body = response.status_code, response.content
                except (httpx.HTTPError, OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
                    phase.errors.append(f"{type(exc).__name__}: {exc}")
                    if connection is not None:
                        await connection.close()
                    continue
                phase.latencies.append(time.monotonic() - started)
                phase.statuses[status] = phase.statuses.get(status, 0) + 1
                if status >= 300 and len(phase.errors) < 3:
                    phase.errors.append(f"{status}: {body[:200].decode(errors='replace')}")
            if connection is not None:
                await connection.close()

        started, cpu = time.monotonic(), time.process_time()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        phase.seconds = time.monotonic() - started
        phase.client_cpu = time.process_time() - cpu
    phase.count = len(mails)
    return phase


def append_mails(host: str, port: int, user: str, password: str, mails: list[Mail]) -> float:
    """APPEND every mail into INBOX over one connection; answers the seconds it took."""
    started = time.monotonic()
    client = imaplib.IMAP4(host, port, timeout=60)
    try:
        client.login(user, password)
        for mail in mails:
            typ, data = client.append("INBOX", None, None, mail.raw)
            if typ != "OK":
                raise SystemExit(f"APPEND refused: {data}")
    finally:
        client.logout()
    return time.monotonic() - started


def poll_mailbox(inbox, mails: list[Mail], label: str) -> Phase:
    """``mailbox_poll`` (the product's import) until every mail is read; timed."""
    from crm.inboxes.services.mailbox import mailbox_poll

    phase = Phase(label)
    started = time.monotonic()
    result = mailbox_poll(inbox=inbox)
    phase.seconds = time.monotonic() - started
    phase.count = result.fetched
    if result.error:
        phase.errors.append(result.error)
    return phase


def measure_routing(inbox_id: int, mails: list[Mail], phase: Phase, *, timeout: float = 300) -> None:
    """Wait until no interaction of the inbox waits for an agent; fill ``phase.routed`` and ``phase.check``."""
    from crm.choices import InteractionStatus
    from crm.inboxes.models import InboundReceipt
    from crm.interactions.models import Interaction

    deadline = time.monotonic() + timeout
    waiting = Interaction.objects.filter(inbox_id=inbox_id, agent__isnull=True, status=InteractionStatus.QUEUED)
    while waiting.exists():
        if time.monotonic() > deadline:
            phase.errors.append(f"{waiting.count()} interactions still unrouted after {timeout:.0f} s")
            break
        time.sleep(0.2)
    rows = InboundReceipt.objects.filter(inbox_id=inbox_id).values_list(
        "key", "status", "received_at", "interaction_id", "interaction__assigned_at", "message__created_at", "id"
    )
    seen = {key: rest for key, *rest in rows}
    by_id = {key: value[2] for key, value in seen.items()}
    threaded = replies = ahead = 0
    for mail in mails:
        found = seen.get(mail.message_id)
        if found is None or found[0] != "imported":
            continue
        _, received, interaction_id, assigned, message_at, receipt_id = found
        if mail.parent is None:
            if assigned is not None:
                phase.routed.append(max(0.0, (assigned - received).total_seconds()))
        else:
            replies += 1
            threaded += by_id.get(mail.parent) == interaction_id
            # sent after its parent, but its parent's request was still in flight: stored (and imported) first
            parent = seen.get(mail.parent)
            ahead += parent is not None and receipt_id < parent[5]
            phase.routed.append(max(0.0, (message_at - received).total_seconds()))
    imported = sum(1 for value in seen.values() if value[0] == "imported")
    phase.check = f"{imported}/{len(mails)} imported once, {threaded}/{replies} replies on their thread"
    if ahead:
        phase.check += f" ({ahead} stored before their parent, whose request was still in flight)"


def measure_drain(inbox_id: int, count: int, *, timeout: float = 600, since: float | None = None) -> Phase:
    """(Queued import.) Wait until the inbox has no queued receipt; the drain's rate, from the first receipt (or
    ``since``, the worker's start, when it started after the burst) to the last message stored."""
    from django.db.models import Max, Min

    from crm.inboxes.models import InboundReceipt, ReceiptStatus

    phase, deadline = Phase("  drain (1st receipt → last import)"), time.monotonic() + timeout
    while InboundReceipt.objects.filter(inbox_id=inbox_id, status=ReceiptStatus.QUEUED).exists():
        if time.monotonic() > deadline:
            phase.errors.append(f"still queued after {timeout:.0f} s")
            break
        time.sleep(0.2)
    span = InboundReceipt.objects.filter(inbox_id=inbox_id).aggregate(
        first=Min("received_at"), last=Max("message__created_at")
    )
    phase.count = count
    if span["first"] and span["last"]:
        first = max(span["first"].timestamp(), since or 0)
        phase.seconds = span["last"].timestamp() - first
        if since:
            phase.label = "  drain (worker start → last import)"
    return phase


def report(phases: list[Phase]) -> None:
    _log(f"\n{'path':<34} {'messages':>8} {'msg/s':>7} {'req p50':>8} {'req p99':>8} {'routed p50':>10} "
         f"{'routed p99':>10}  checks")  # fmt: skip
    for p in phases:
        _log(
            f"{p.label:<34} {p.count:>8} {p.rate:>7.1f} {percentile(p.latencies, 50):>8.1f} "
            f"{percentile(p.latencies, 99):>8.1f} {percentile(p.routed, 50):>10.1f} {percentile(p.routed, 99):>10.1f}"
            f"  {p.check or ''} {dict(sorted(p.statuses.items())) if p.statuses else ''}"
        )
        if p.client_cpu:
            _log(f"    the client's own CPU: {p.client_cpu / p.count * 1000:.2f} ms per message")
        for error in p.errors[:3]:
            _log(f"    e.g. {error}")
    by_label = {p.label: p for p in phases}
    endpoint = next((p for p in phases if p.label.startswith("endpoint POST")), None)
    ceiling = by_label.get("ceiling POST /ingest-raw")
    if endpoint and ceiling and ceiling.rate:
        _log(f"endpoint / ceiling: {endpoint.rate / ceiling.rate:.2f} (aim ≥ 0.50; endpoint aim ≥ 200 msg/s)")
    _log("(ms; routed = receipt → assigned to an agent for new work, → stored on its interaction for a reply)")


@contextmanager
def celery_worker(env: dict[str, str], concurrency: int):
    """A real worker on the benchmark's own queue (nobody else's worker takes its tasks), stopped at the end."""
    command = [PYTHON, "-m", "celery", "-A", "config", "worker", "-Q", env["CELERY_TASK_DEFAULT_QUEUE"],
               "--concurrency", str(concurrency), "-l", "warning", "--without-gossip", "--without-mingle",
               "--without-heartbeat"]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)  # noqa: S603
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # a warm shutdown: the pool's children finish their task first
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def describe_server(args) -> str:
    if args.server == "uvicorn":
        return f"uvicorn (ASGI) with {args.workers} workers"
    if args.server == "granian":
        return f"granian (WSGI) with {args.workers} workers of {args.granian_threads} threads"
    return f"gunicorn (WSGI) with {args.workers} {args.wsgi_class} workers" + (
        f" of {args.threads} threads" if args.wsgi_class == "gthread" else ""
    )


def serve(args, package: str, *, port: int, env: dict[str, str]):
    """``package``'s application (``config`` or ``bench.ceiling_app``) under the chosen server."""
    if args.server == "uvicorn":
        app = "config.asgi:application" if package == "config" else f"{package}:application"
        return uvicorn(app, port=port, workers=args.workers, env=env)
    app = "config.wsgi:application" if package == "config" else f"{package}:wsgi_application"
    if args.server == "granian":
        return granian(app, port=port, workers=args.workers, threads=args.granian_threads, env=env)
    threads = args.threads if args.wsgi_class == "gthread" else 1
    return gunicorn(app, port=port, workers=args.workers, worker_class=args.wsgi_class, threads=threads, env=env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    _db.add_arguments(parser, default=DEFAULT_DATABASE, keep=False)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"))
    parser.add_argument("--messages", type=int, default=10_000, help="messages per path")
    parser.add_argument("--reply-lag", type=int, default=200, help="a reply comes at least this many after its parent")
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument(
        "--server",
        choices=["uvicorn", "gunicorn", "granian"],
        default="uvicorn",
        help="uvicorn (ASGI, config.asgi), gunicorn or granian (WSGI, config.wsgi; granian is production's web role);"
        " the ceiling runs on the same",
    )
    parser.add_argument("--granian-threads", type=int, default=2, help="blocking threads per granian worker")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--wsgi-class", choices=["sync", "gthread"], default="sync", help="gunicorn's worker class")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker (gthread)")
    parser.add_argument("--pool-size", type=int, default=8, help="database connections per worker")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent client requests")
    parser.add_argument(
        "--client",
        choices=["raw", "httpx"],
        default="raw",
        help="the load generator's HTTP client: a minimal keep-alive one (raw) or httpx",
    )
    parser.add_argument("--celery-concurrency", type=int, default=1)
    parser.add_argument(
        "--worker-after-burst",
        action="store_true",
        help="(with --import queued) start the Celery worker once the endpoint's burst is in: the acceptance alone,"
        " against the bare view, with no import sharing the cores; the drain is then timed from the worker's start",
    )
    parser.add_argument("--port", type=int, default=8775, help="server port; the ceiling uses the next one")
    parser.add_argument("--skip-imap", action="store_true")
    parser.add_argument("--skip-ceiling", action="store_true")
    parser.add_argument(
        "--ceiling-first",
        action="store_true",
        help="run the bare view before the endpoint (on the fresh database) instead of after everything else",
    )
    parser.add_argument(
        "--import",
        dest="import_mode",
        choices=["immediate", "queued"],
        default="immediate",
        help="the endpoint inbox's import setting: import before answering, or store, answer 202, import in Celery",
    )
    args = parser.parse_args()

    args.database_url = prepare_database(args.database)
    env = server_env(args) | {
        "CELERY_BROKER_URL": args.redis_url,
        "CELERY_TASK_DEFAULT_QUEUE": f"bench-email-{uuid.uuid4().hex[:8]}",
        "MEDIA_ROOT": tempfile.mkdtemp(prefix="sb-bench-email-media-"),
    }
    try:
        run(args, env)
    finally:
        shutil.rmtree(env["MEDIA_ROOT"], ignore_errors=True)
        _db.finish(args.database_url, keep=args.keep_database)


def run(args, env: dict[str, str]) -> None:
    manage("migrate", "--noinput", env=env)
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connections

    from tests.support import dovecot

    imap_server = None
    if not args.skip_imap:
        if not dovecot.available():
            raise SystemExit(dovecot.MISSING + " (or --skip-imap)")
        imap_server = dovecot.Dovecot()
        imap_server.start()
    try:
        account = imap_server.add_account() if imap_server else None
        capacity = 2 * args.messages // args.agents + 10
        endpoint_inbox, imap_inbox = make_center(
            agents=args.agents, capacity=capacity, imap_url=account.url() if account else "", mode=args.import_mode
        )
        phases = [ceiling_phase(args, env)] if args.ceiling_first and not args.skip_ceiling else []
        with ExitStack() as worker:
            if not args.worker_after_burst:
                worker.enter_context(celery_worker(env, args.celery_concurrency))
            mails = generate_mails(args.messages, prefix=f"ep{uuid.uuid4().hex[:6]}", reply_lag=args.reply_lag)
            _log(f"endpoint: {args.messages} messages, {args.concurrency} clients, {describe_server(args)}")
            with serve(args, "config", port=args.port, env=env) as base:
                url = f"{base}/inbound/email/{endpoint_inbox.token}/"
                phase = asyncio.run(
                    post_mails(
                        url,
                        mails,
                        concurrency=args.concurrency,
                        label=f"endpoint POST /inbound/email/ ({args.import_mode})",
                        client=args.client,
                    )
                )
            _log(f"  {phase.rate:.1f} msg/s; waiting for routing…")
            worker_started = None
            if args.worker_after_burst:  # the drain asked for during the burst waits in the broker for it
                worker_started = time.time()
                worker.enter_context(celery_worker(env, args.celery_concurrency))
                phase.label += ", worker after"
            drain = (
                measure_drain(endpoint_inbox.pk, len(mails), since=worker_started)
                if args.import_mode == "queued"
                else None
            )
            measure_routing(endpoint_inbox.pk, mails, phase)
            phases += [phase, drain] if drain else [phase]
            if imap_inbox is not None:
                mails = generate_mails(args.messages, prefix=f"im{uuid.uuid4().hex[:6]}", reply_lag=args.reply_lag)
                seconds = append_mails("127.0.0.1", account.port, account.username, account.password, mails)
                _log(f"IMAP: {args.messages} messages APPENDed in {seconds:.1f} s (not timed); mailbox_poll…")
                phase = poll_mailbox(imap_inbox, mails, "IMAP APPEND → mailbox_poll")
                _log(f"  {phase.rate:.1f} msg/s; waiting for routing…")
                measure_routing(imap_inbox.pk, mails, phase)
                phases.append(phase)
        if not args.skip_ceiling and not args.ceiling_first:
            phases.append(ceiling_phase(args, env))
        report(phases)
    finally:
        connections.close_all()
        if imap_server is not None:
            imap_server.stop()


def ceiling_phase(args, env: dict) -> Phase:
    """The bare view under the same load: ``bench.ceiling_app``'s ``/ingest-raw`` on the same server."""
    mails = generate_mails(args.messages, prefix=f"ce{uuid.uuid4().hex[:6]}", reply_lag=args.reply_lag)
    with serve(args, "bench.ceiling_app", port=args.port + 1, env=env) as base:
        phase = asyncio.run(
            post_mails(
                f"{base}/ingest-raw",
                mails,
                concurrency=args.concurrency,
                label="ceiling POST /ingest-raw",
                client=args.client,
            )
        )
    phase.check = "bare INSERT of the raw bytes"
    return phase


if __name__ == "__main__":
    main()
