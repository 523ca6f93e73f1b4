"""How the endpoint's process asks for drains (``CoalescedTask.request_soon``): a burst of mails asks once, after
their commits, from the process's requester thread; a mail committed once the pending drain has started asks again,
so a drain is always pending after a commit. Real Redis (the marks and a broker queue of the test's own)."""

import time

import pytest

from crm.inboxes.adapters.email import EmailAdapter
from crm.inboxes.services.queued import drain_starting, email_accept
from tests.crm.inboxes.email import corpus
from tests.crm.inboxes.factories import InboxFactory
from tests.crm.test_worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _mail(n: int) -> bytes:
    return corpus.message(message_id=f"<burst-{n}@example.org>").as_bytes()


def test_a_burst_asks_for_one_drain_and_a_mail_after_the_drain_started_asks_again(counted_queue):
    inbox = InboxFactory(settings=EmailAdapter.validate_settings({"address": corpus.SUPPORT, "import": "queued"}))
    drain_starting(inbox_id=inbox.pk)
    try:
        for n in range(30):
            email_accept(inbox=inbox, raw=_mail(n))  # each in its own transaction, committed at once
        wait_for(lambda: counted_queue() == 1, timeout=5, what="the drain to be requested")
        time.sleep(0.1)
        assert counted_queue() == 1  # one drain for the whole burst: it reads every mail committed before it starts

        drain_starting(inbox_id=inbox.pk)  # the drain starts (and may have read before the next mail commits)
        email_accept(inbox=inbox, raw=_mail(30))
        wait_for(lambda: counted_queue() == 2, timeout=5, what="a drain to be requested again")
    finally:
        drain_starting(inbox_id=inbox.pk)
