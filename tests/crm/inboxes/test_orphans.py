"""Stored files that no message names — an import whose transaction rolled back, an agent's upload refused — are
found through the ledger and deleted by the sweep after their grace period; files of committed messages stay."""

import uuid

import pytest
from django.core.files.storage import default_storage
from django.db import transaction

from config.redis_clients import shared as shared_redis
from crm.inboxes import file_ledger
from crm.inboxes.attachments import attachment_store
from crm.inboxes.models import InboundReceipt
from crm.inboxes.services.inbound import email_receive
from crm.inboxes.services.orphans import orphan_files_sweep
from crm.inboxes.tasks import orphan_files_sweep_task
from crm.interactions.models import Message
from tests.crm.inboxes.email import corpus
from tests.crm.inboxes.factories import InboxFactory
from tests.crm.inboxes.outbound import email_inbox, email_work, reply

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def own_ledger(settings):
    """A ledger of this test's own: other tests (and xdist workers) write files into theirs."""
    settings.SWITCHBOARD_INSTANCE = f"orphans-{uuid.uuid4().hex}"
    yield
    shared_redis().delete(file_ledger._key())


def _paths(message: Message) -> list[str]:
    return [entry["path"] for entry in message.attachments if entry.get("path")]


def _unclaimed() -> list[str]:
    return file_ledger.files_unclaimed(written_before=float("inf"), limit=100)


def test_files_of_a_rolled_back_import_are_swept_and_a_committed_mails_stay(django_capture_on_commit_callbacks):
    inbox = InboxFactory()
    with django_capture_on_commit_callbacks(execute=True):
        kept = email_receive(inbox=inbox, raw=corpus.forwarded(), source="imap")
    kept_paths = _paths(Message.objects.get(pk=kept.message_id))
    assert kept_paths and _unclaimed() == []  # claimed when the message committed

    with pytest.raises(RuntimeError), transaction.atomic():  # e.g. the IMAP batch fails after this message
        email_receive(inbox=inbox, raw=corpus.rfc2231_filename(), source="imap")
        raise RuntimeError("the batch's transaction rolls back")
    orphans = _unclaimed()
    assert orphans and all(default_storage.exists(path) for path in orphans)
    assert InboundReceipt.objects.count() == 1  # nothing names them

    assert orphan_files_sweep(grace_seconds=3600) == 0  # still within the grace period: nothing touched
    assert all(default_storage.exists(path) for path in orphans)

    assert orphan_files_sweep(grace_seconds=0) == len(orphans)

    assert not any(default_storage.exists(path) for path in orphans)
    assert all(default_storage.exists(path) for path in kept_paths)
    assert _unclaimed() == []


def test_an_upload_whose_reply_was_refused_is_swept(settings):
    settings.SWITCHBOARD_ORPHAN_FILE_GRACE_SECONDS = 0
    entry = attachment_store(filename="quote.pdf", content_type="application/pdf", data=b"%PDF-1.4 quote")
    # ... and the reply it was uploaded with is refused (the interaction was closed meanwhile): no message names it

    assert orphan_files_sweep_task.apply().get() == 1  # the beat entry's task, run here
    assert not default_storage.exists(entry["path"])


def test_a_file_whose_claim_was_lost_is_kept_and_leaves_the_ledger(django_capture_on_commit_callbacks):
    work = email_work(email_inbox())
    entry = attachment_store(filename="invoice.pdf", content_type="application/pdf", data=b"%PDF-1.4 invoice")
    message = reply(work, attachments=[entry])  # its on-commit claim never runs: as if the worker stopped there

    assert _unclaimed() == [entry["path"]]
    assert orphan_files_sweep(grace_seconds=0) == 0

    assert default_storage.exists(entry["path"]) and _paths(Message.objects.get(pk=message.pk)) == [entry["path"]]
    assert _unclaimed() == []


def test_a_file_already_gone_is_forgotten():
    entry = attachment_store(filename="gone.txt", content_type="text/plain", data=b"gone")
    default_storage.delete(entry["path"])

    assert orphan_files_sweep(grace_seconds=0) == 0
    assert _unclaimed() == []
