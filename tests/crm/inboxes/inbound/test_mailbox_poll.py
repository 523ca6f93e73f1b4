"""Polling a real IMAP mailbox (dovecot on loopback): messages delivered with APPEND become interactions, queued
and routed like an integrator's; nothing is imported twice across polls, restarts and a changed UIDVALIDITY; a
refused login asks the administrators for new credentials, once."""

from email import policy

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone

from agents.choices import AgentStatus
from config.roles import ADMINISTRATOR_GROUP
from crm.choices import InteractionStatus
from crm.inboxes import tasks
from crm.inboxes.adapters.email import EmailAdapter
from crm.inboxes.models import InboundReceipt, InboxState, MailboxCursor, ReceiptStatus
from crm.inboxes.services.mailbox import mailbox_poll
from crm.interactions.models import Interaction
from tests.agents.factories import AgentFactory, UserFactory
from tests.crm.inboxes.email import corpus
from tests.crm.inboxes.factories import InboxFactory
from tests.support.ports import free_port

pytestmark = pytest.mark.django_db


def _mail(n: int, **kwargs) -> bytes:
    kwargs.setdefault("sender", f"Customer {n} <customer{n}@example.com>")
    return corpus.message(
        subject=f"Question {n}", body=f"Question number {n}.", message_id=f"<q{n}@example.com>", **kwargs
    ).as_bytes(policy=policy.SMTP)


def _mailbox_inbox(url: str, **kwargs):
    return InboxFactory(settings=EmailAdapter.validate_settings({"address": corpus.SUPPORT, "imap_url": url}), **kwargs)


@pytest.fixture
def mailbox(imap_account):
    return _mailbox_inbox(imap_account.url())


def _subjects() -> list[str]:
    return sorted(Interaction.objects.values_list("subject", flat=True))


def test_appended_mail_is_imported_queued_and_routed_even_if_already_read(
    imap_account, mailbox, eager_tasks, django_capture_on_commit_callbacks
):
    agent = AgentFactory(status=AgentStatus.AVAILABLE, status_changed_at=timezone.now(), team=mailbox.queue.team)
    imap_account.append(_mail(1))
    imap_account.append(_mail(2), flags="\\Seen")  # read in another mail client first

    with django_capture_on_commit_callbacks(execute=True):
        result = mailbox_poll(inbox=mailbox)

    assert (result.fetched, result.imported, result.error) == (2, 2, "")
    assert _subjects() == ["Question 1", "Question 2"]
    for interaction in Interaction.objects.all():
        assert (interaction.channel, interaction.inbox, interaction.queue) == ("email", mailbox, mailbox.queue)
        assert interaction.status == InteractionStatus.ASSIGNED and interaction.agent == agent
    assert set(InboundReceipt.objects.values_list("source", "status")) == {("imap", ReceiptStatus.IMPORTED)}
    cursor = MailboxCursor.objects.get(inbox=mailbox)
    assert cursor.last_uid == 2 and cursor.uidvalidity and cursor.polled_at and cursor.last_error == ""
    with imap_account.client() as client:
        _, seen = client.uid("SEARCH", "SEEN")
    assert seen[0].split() == [b"1", b"2"]  # flagged for the people looking at the mailbox


def test_polling_again_or_after_a_restart_imports_nothing_twice(imap_account, mailbox):
    for n in (1, 2, 3):
        imap_account.append(_mail(n))
    mailbox_poll(inbox=mailbox)

    assert mailbox_poll(inbox=mailbox).imported == 0

    # a restarted worker: everything read afresh from the database
    restarted = type(mailbox).objects.get(pk=mailbox.pk)
    imap_account.append(_mail(4))
    assert mailbox_poll(inbox=restarted).imported == 1

    # a cursor lost or behind (a crash between the import and anything after it): the receipts still hold
    MailboxCursor.objects.filter(inbox=mailbox).update(last_uid=0)
    result = mailbox_poll(inbox=restarted)
    assert (result.fetched, result.imported) == (4, 0)
    assert Interaction.objects.count() == 4 and InboundReceipt.objects.count() == 4


def test_a_backlog_after_downtime_is_imported_in_batches(imap_account, mailbox, settings):
    settings.SWITCHBOARD_EMAIL_IMAP_BATCH = 2
    for n in range(1, 8):
        imap_account.append(_mail(n))

    result = mailbox_poll(inbox=mailbox)

    assert (result.fetched, result.imported) == (7, 7)
    assert _subjects() == [f"Question {n}" for n in range(1, 8)]
    assert MailboxCursor.objects.get(inbox=mailbox).last_uid == 7


def test_a_recreated_folder_is_read_again_and_only_new_mail_imported(imap_account):
    with imap_account.client() as client:
        client.create("Support")
    inbox = _mailbox_inbox(imap_account.url("Support"))
    imap_account.append(_mail(1), folder="Support")
    mailbox_poll(inbox=inbox)
    first_validity = MailboxCursor.objects.get(inbox=inbox).uidvalidity

    with imap_account.client() as client:  # restored from a backup: new UIDVALIDITY, UIDs start over
        client.delete("Support")
        client.create("Support")
    imap_account.append(_mail(1), folder="Support")
    imap_account.append(_mail(2), folder="Support")

    result = mailbox_poll(inbox=inbox)

    assert (result.fetched, result.imported) == (2, 1)
    assert _subjects() == ["Question 1", "Question 2"]
    assert MailboxCursor.objects.get(inbox=inbox).uidvalidity != first_validity


def test_replies_in_the_mailbox_thread_like_posted_ones(imap_account, mailbox):
    imap_account.append(_mail(1, sender=corpus.CUSTOMER))
    mailbox_poll(inbox=mailbox)
    imap_account.append(corpus.gmail_reply(in_reply_to="<q1@example.com>").replace(b"\n", b"\r\n"))

    mailbox_poll(inbox=mailbox)

    interaction = Interaction.objects.get()
    assert list(interaction.messages.values_list("body", flat=True)) == [
        "Question number 1.",
        "Thanks, it works again!",
    ]


def test_a_message_over_the_size_limit_is_recorded_and_the_rest_imported(imap_account, mailbox, settings):
    imap_account.append(corpus.message(subject="Huge", body="y" * 60_000, message_id="<huge@x.test>").as_bytes())
    imap_account.append(_mail(2))
    settings.SWITCHBOARD_EMAIL_MAX_BYTES = 20_000

    result = mailbox_poll(inbox=mailbox)

    assert result.fetched == 2 and _subjects() == ["Question 2"]
    failed = InboundReceipt.objects.get(status=ReceiptStatus.FAILED)
    assert "20000" in failed.reason and failed.raw is None and failed.size > 60_000


def test_an_unreachable_server_is_noted_on_the_cursor_and_tried_again(db):
    inbox = _mailbox_inbox(f"imap://user:secret@127.0.0.1:{free_port()}/INBOX")

    result = mailbox_poll(inbox=inbox)

    cursor = MailboxCursor.objects.get(inbox=inbox)
    assert "cannot reach" in cursor.last_error and "secret" not in cursor.last_error
    assert result.error == cursor.last_error
    inbox.refresh_from_db()
    assert inbox.state == InboxState.ACTIVE and not mail.outbox


def test_the_beat_task_polls_every_active_mailbox_and_skips_the_others(imap_account, eager_tasks):
    polled = _mailbox_inbox(imap_account.url())
    _mailbox_inbox(imap_account.url(), is_active=False)
    _mailbox_inbox(imap_account.url(), state=InboxState.REAUTHORISE)
    InboxFactory()  # no mailbox: fed by the endpoint only
    imap_account.append(_mail(1))

    assert tasks.email_poll_due.delay().get() == 1

    assert list(Interaction.objects.values_list("inbox", flat=True)) == [polled.pk]
    assert MailboxCursor.objects.count() == 1


def test_refused_credentials_ask_the_administrators_once_and_pause_polling(
    imap_account, django_capture_on_commit_callbacks
):
    UserFactory(username="root", email="root@acme.test", is_superuser=True, is_staff=True)
    chief = UserFactory(username="chief", email="chief@acme.test", is_staff=True)
    chief.groups.add(Group.objects.get_or_create(name=ADMINISTRATOR_GROUP)[0])
    UserFactory(username="sup", email="sup@acme.test", is_staff=True)  # staff, not an administrator
    inbox = _mailbox_inbox(imap_account.url(password="changed-elsewhere"), name="Acme support")
    imap_account.append(_mail(1))

    with django_capture_on_commit_callbacks(execute=True):
        mailbox_poll(inbox=inbox)
        mailbox_poll(inbox=inbox)  # still refused: no second e-mail

    inbox.refresh_from_db()
    assert inbox.state == InboxState.REAUTHORISE and imap_account.username in inbox.state_detail
    assert "changed-elsewhere" not in inbox.state_detail
    (notice,) = mail.outbox
    assert sorted(notice.to) == ["chief@acme.test", "root@acme.test"]
    assert "Acme support" in notice.subject and "re-authorised" in notice.body
    assert not Interaction.objects.exists()

    # an administrator gives it the right password and marks it re-authorised: what waited is imported
    inbox.settings = EmailAdapter.validate_settings({"address": corpus.SUPPORT, "imap_url": imap_account.url()})
    inbox.state, inbox.state_detail = InboxState.ACTIVE, ""
    inbox.save()
    assert mailbox_poll(inbox=inbox).imported == 1
    assert MailboxCursor.objects.get(inbox=inbox).last_error == ""


@pytest.mark.django_db(transaction=True)
def test_two_pollers_at_once_import_each_message_once(imap_account, settings):
    import threading

    from django.db import connection

    settings.SWITCHBOARD_EMAIL_IMAP_BATCH = 2
    inbox = _mailbox_inbox(imap_account.url())
    for n in range(1, 10):
        imap_account.append(_mail(n))
    start, results = threading.Barrier(2), []

    def poll():
        try:
            start.wait(10)
            for _ in range(5):  # each keeps polling: whoever holds the mailbox, the other skips it
                results.append(mailbox_poll(inbox=inbox))
        finally:
            connection.close()

    pollers = [threading.Thread(target=poll) for _ in range(2)]
    for poller in pollers:
        poller.start()
    for poller in pollers:
        poller.join(60)

    assert sum(result.imported for result in results) == 9
    assert sum(result.fetched for result in results) == 9  # no message was even read twice
    assert _subjects() == [f"Question {n}" for n in range(1, 10)]
    assert InboundReceipt.objects.count() == 9
