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
