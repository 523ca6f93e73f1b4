"""The same mail delivered by two workers at once (an MTA retrying, IMAP and the endpoint both, two pollers) is
imported once: real threads, each with its own database connection, committing for real."""

import threading
import time

import pytest
from django.db import connection, transaction
from django.test import Client

from crm.inboxes.models import InboundReceipt
from crm.inboxes.services.inbound import email_receive
from crm.interactions.models import Interaction, Message
from tests.crm.inboxes.email import corpus

pytestmark = pytest.mark.django_db(transaction=True)


def _in_thread(target):
    def run():
        try:
            target()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_second_delivery_waits_for_the_first_and_then_imports_nothing(inbox):
    raw = corpus.alternative()
    stored, release, results = threading.Event(), threading.Event(), {}

    def first():
        with transaction.atomic():  # the first import holds its transaction open until released
            results["first"] = email_receive(inbox=inbox, raw=raw, source="imap")
            stored.set()
            release.wait(10)

    def second():
        stored.wait(10)
        results["second"] = email_receive(inbox=inbox, raw=raw, source="endpoint")

    threads = [_in_thread(first), _in_thread(second)]
    assert stored.wait(10)
    time.sleep(0.5)
    assert "second" not in results  # blocked on the first one's receipt, not importing a copy
    release.set()
    for thread in threads:
        thread.join(10)

    assert results["first"].duplicate is False and results["second"].duplicate is True
    assert results["second"].pk == results["first"].pk and results["second"].interaction_id is not None
    assert Interaction.objects.count() == 1 and Message.objects.count() == 1
    assert InboundReceipt.objects.get().source == "imap"


@pytest.mark.parametrize("message_id", ["<same@example.com>", None])
def test_many_posts_of_one_mail_at_once_make_one_interaction(inbox, message_id):
    raw = corpus.message(message_id=message_id).as_bytes()
    start, statuses = threading.Barrier(5), []

    def post():
        start.wait(10)
        response = Client().generic("POST", f"/inbound/email/{inbox.token}/", raw, content_type="message/rfc822")
        statuses.append(response.status_code)

    for thread in [_in_thread(post) for _ in range(5)]:
        thread.join(20)

    assert sorted(statuses) == [200, 200, 200, 200, 201]
    assert Interaction.objects.count() == 1 and Message.objects.count() == 1
    assert InboundReceipt.objects.count() == 1
