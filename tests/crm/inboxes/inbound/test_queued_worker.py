"""The queued import through a real Celery worker (a subprocess on the real Redis broker, a queue of its own):
the endpoint answers 202, the drain requested on commit imports in the worker and routing assigns the new
interaction to an available agent; a reply posted after it joins its thread; noise opens nothing."""

import pytest
from django.utils import timezone

from agents.choices import AgentStatus
from crm.inboxes.adapters.email import EmailAdapter
from crm.inboxes.models import InboundReceipt, ReceiptStatus
from crm.interactions.models import Interaction
from tests.agents.factories import AgentFactory, TeamFactory
from tests.crm.factories import QueueFactory
from tests.crm.inboxes.email import corpus
from tests.crm.inboxes.factories import InboxFactory
from tests.crm.test_worker import wait_for, worker, worker_process  # noqa: F401 (the worker fixtures)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_queued_mail_is_imported_and_routed_by_the_worker_and_its_reply_joins_it(worker, post_mail):  # noqa: F811
    queue = QueueFactory(channels=["email"], team=TeamFactory())
    agent = AgentFactory(
        team=queue.team, capacity={"email": 5}, status=AgentStatus.AVAILABLE, status_changed_at=timezone.now()
    )
    inbox = InboxFactory(
        queue=queue, settings=EmailAdapter.validate_settings({"address": corpus.SUPPORT, "import": "queued"})
    )
    original = corpus.message(message_id="<first@example.com>").as_bytes()
    reply = corpus.message(
        subject="Re: Printer is broken",
        body="Still broken.",
        message_id="<second@example.com>",
        headers={"In-Reply-To": "<first@example.com>", "References": "<first@example.com>"},
    ).as_bytes()
    noise = corpus.auto_reply("Auto-Submitted", "auto-replied")

    answers = [post_mail(inbox, raw) for raw in (original, reply, noise)]

    assert [answer.status_code for answer in answers] == [202, 202, 202]
    assert {answer.json()["status"] for answer in answers} == {"queued"}
    wait_for(
        lambda: not InboundReceipt.objects.filter(status=ReceiptStatus.QUEUED).exists(),
        what="the worker to drain the queued mail",
    )
    interaction = wait_for(
        lambda: Interaction.objects.filter(agent__isnull=False).first(), what="the interaction to be routed"
    )
    assert interaction.agent_id == agent.pk and Interaction.objects.count() == 1
    statuses = dict(InboundReceipt.objects.values_list("key", "status"))
    assert statuses["first@example.com"] == statuses["second@example.com"] == ReceiptStatus.IMPORTED
    assert list(InboundReceipt.objects.exclude(status=ReceiptStatus.IMPORTED).values_list("status", flat=True)) == [
        ReceiptStatus.NOISE
    ]
    assert list(interaction.messages.order_by("id").values_list("body", flat=True))[-1] == "Still broken."
    assert post_mail(inbox, original).status_code == 200  # a duplicate, after the import too


def test_a_worker_killed_in_the_middle_of_a_drain_leaves_its_mail_queued_and_each_is_imported_once(
    worker,  # noqa: F811
    post_mail,
):
    """SIGKILL of the worker's child while its drain waits, mid-import, on a row an agent holds: its transaction
    never commits, the mail stays queued, and the sweep has a new child import each of them once, in order."""
    import os
    import signal

    import psycopg
    from django.db import connection

    from crm.inboxes.services.queued import queued_sweep
    from tests.crm.test_worker import pool_children

    inbox = InboxFactory(
        queue=QueueFactory(channels=["email"]),
        settings=EmailAdapter.validate_settings({"address": corpus.SUPPORT, "import": "queued"}),
    )
    first = corpus.message(message_id="<kill-1@example.com>").as_bytes()
    reply = corpus.message(
        subject="Re: Printer is broken",
        body="Any news?",
        message_id="<kill-2@example.com>",
        headers={"In-Reply-To": "<kill-1@example.com>"},
    ).as_bytes()
    other = corpus.message(sender="Bo <bo@example.com>", message_id="<kill-3@example.com>").as_bytes()
    post_mail(inbox, first)
    wait_for(lambda: InboundReceipt.objects.filter(status=ReceiptStatus.IMPORTED).exists(), what="the first import")
    thread = InboundReceipt.objects.get().interaction
    s = connection.settings_dict
    url = f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    holder = psycopg.connect(url)
    # pg_stat_activity is a snapshot per transaction: the holder's (open) transaction would never see the drain
    # start waiting after its first look, so another connection, in autocommit, looks
    watcher = psycopg.connect(url, autocommit=True)
    try:
        # an agent's transaction holds the thread: the drain of the reply waits on it, in the middle of its import
        holder.execute("SELECT id FROM crm_interaction WHERE id = %s FOR UPDATE", [thread.pk])
        post_mail(inbox, reply)
        post_mail(inbox, other)  # behind the reply, in the same batch
        waiting = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'"
        wait_for(lambda: watcher.execute(waiting, [s["NAME"]]).fetchone()[0] == 1, what="the drain to wait")

        [child] = pool_children(worker.pid)
        os.kill(child, signal.SIGKILL)
        holder.rollback()  # the agent lets go: the killed child's transaction cannot commit
    finally:
        holder.close()
        watcher.close()
    assert InboundReceipt.objects.filter(status=ReceiptStatus.QUEUED).count() == 2

    # the beat's sweep (called here, as beat would): a new child drains what the killed one left queued
    wait_for(
        lambda: (
            queued_sweep(older_than=0) >= 0
            and not InboundReceipt.objects.filter(inbox=inbox, status=ReceiptStatus.QUEUED).exists()
        ),
        timeout=60,
        what="the queued mail to be imported after the kill",
    )
    receipts = list(InboundReceipt.objects.filter(inbox=inbox).order_by("id"))
    assert [receipt.status for receipt in receipts] == [ReceiptStatus.IMPORTED] * 3
    assert receipts[1].interaction_id == thread.pk  # the reply: on its thread, once
    assert thread.messages.count() == 2 and Interaction.objects.count() == 2
    assert receipts[1].message_id < receipts[2].message_id  # still in arrival order
    assert worker.poll() is None  # the worker itself lives on with a new child
