"""Mailboxes that log in with OAuth (XOAUTH2, as Microsoft 365 and Gmail require) against a real dovecot, a real
SMTP server and a stand-in token endpoint on loopback; and what refused credentials do to the inbox's replies:
they wait, the administrators are told once, and marking the inbox re-authorised sends them."""

from email import policy

import pytest
from django.contrib.auth.models import Group
from django.core import mail

from config.roles import ADMINISTRATOR_GROUP
from crm.choices import DeliveryStatus
from crm.inboxes.adapters import InvalidSettings
from crm.inboxes.adapters.email import EmailAdapter
from crm.inboxes.models import InboxState, MailboxCursor
from crm.inboxes.services.credentials import inbox_forget_access_token
from crm.inboxes.services.delivery import delivery_publish_due, delivery_send
from crm.inboxes.services.inboxes import inbox_mark_reauthorised, inbox_merge_settings
from crm.inboxes.services.mailbox import mailbox_poll
from crm.interactions.models import Interaction, Message
from tests.agents.factories import UserFactory
from tests.crm.inboxes.email import corpus
from tests.crm.inboxes.factories import InboxFactory
from tests.crm.inboxes.outbound import delivery_of, email_work, reply

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")]

REFRESH = "1//refresh-granted-at-consent"
D = DeliveryStatus


@pytest.fixture(autouse=True)
def loopback_provider(settings, token_server):
    """The session's stand-in provider, as new for each test; it listens on 127.0.0.1."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    token_server.grants.clear()
    token_server.token_requests.clear()
    token_server.rotate, token_server.fail_with = False, None


@pytest.fixture
def administrators(db):
    chief = UserFactory(username="chief", email="chief@acme.test", is_staff=True)
    chief.groups.add(Group.objects.get_or_create(name=ADMINISTRATOR_GROUP)[0])
    return chief


def _oauth(token_server, **settings):
    return {
        "address": corpus.SUPPORT,
        "oauth_token_url": token_server.token_url,
        "oauth_client_id": "switchboard-app",
        "oauth_client_secret": "app-secret",
        "oauth_refresh_token": REFRESH,
        **settings,
    }


def _oauth_inbox(token_server, **settings):
    inbox = InboxFactory(name="Acme support", settings=EmailAdapter.validate_settings(_oauth(token_server, **settings)))
    inbox_forget_access_token(inbox)
    return inbox


def _mail(n: int) -> bytes:
    return corpus.message(
        subject=f"Question {n}", body=f"Question {n}.", message_id=f"<oauth{n}@example.com>"
    ).as_bytes(policy=policy.SMTP)


# --- settings --------------------------------------------------------------------------------------------------------


def test_oauth_settings_are_all_or_nothing_and_their_secrets_are_never_shown(token_server):
    with pytest.raises(InvalidSettings) as caught:
        EmailAdapter.validate_settings({"address": corpus.SUPPORT, "oauth_token_url": token_server.token_url})
    assert set(caught.value.errors) == {"oauth_client_id", "oauth_refresh_token", "oauth_token_url"}
    assert "imap_url or smtp_url" in caught.value.errors["oauth_token_url"]

    stored = EmailAdapter.validate_settings(_oauth(token_server, smtp_url="smtp://support@127.0.0.1:2525"))
    shown = EmailAdapter.redact_settings(stored)
    assert shown["oauth_client_secret"] == shown["oauth_refresh_token"] == "***"
    assert shown["oauth_client_id"] == "switchboard-app" and shown["oauth_token_url"] == token_server.token_url

    # a form echoing what it was shown keeps the secrets; a new refresh token replaces only that one
    merged = inbox_merge_settings(
        adapter_class=EmailAdapter, stored=stored, sent={**shown, "oauth_refresh_token": "1//new-consent"}
    )
    assert merged["oauth_client_secret"] == "app-secret" and merged["oauth_refresh_token"] == "1//new-consent"


# --- IMAP with XOAUTH2 -----------------------------------------------------------------------------------------------


def test_a_mailbox_is_read_with_a_refreshed_token_kept_until_it_expires(imap_account, token_server):
    token_server.grants[REFRESH] = imap_account.username
    inbox = _oauth_inbox(token_server, imap_url=imap_account.url(password="not-the-password"))
    imap_account.append(_mail(1))

    first = mailbox_poll(inbox=inbox)
    imap_account.append(_mail(2))
    second = mailbox_poll(inbox=inbox)

    assert (first.imported, first.error, second.imported) == (1, "", 1)
    assert sorted(Interaction.objects.values_list("subject", flat=True)) == ["Question 1", "Question 2"]
    (asked,) = token_server.token_requests  # one refresh: the second poll used the cached token
    assert asked == {
        "grant_type": "refresh_token",
        "refresh_token": REFRESH,
        "client_id": "switchboard-app",
        "client_secret": "app-secret",
    }


def test_a_rotated_refresh_token_is_stored_and_used_next(imap_account, token_server):
    token_server.grants[REFRESH] = imap_account.username
    token_server.rotate = True
    inbox = _oauth_inbox(token_server, imap_url=imap_account.url(password="unused"))

    mailbox_poll(inbox=inbox)
    inbox.refresh_from_db()
    rotated = inbox.settings["oauth_refresh_token"]
    assert rotated.startswith("1//rotated-") and REFRESH not in token_server.grants  # the old one is spent

    inbox_forget_access_token(inbox)
    imap_account.append(_mail(1))
    assert mailbox_poll(inbox=inbox).imported == 1
    inbox.refresh_from_db()
    assert inbox.settings["oauth_refresh_token"] not in (REFRESH, rotated) and inbox.state == InboxState.ACTIVE
    assert token_server.token_requests[-1]["refresh_token"] == rotated


def test_a_token_the_server_stops_accepting_is_renewed_at_once(imap_account, token_server):
    token_server.grants[REFRESH] = imap_account.username
    inbox = _oauth_inbox(token_server, imap_url=imap_account.url(password="unused"))
    mailbox_poll(inbox=inbox)
    token_server.tokens.clear()  # e.g. the provider invalidated tokens early; the grant still stands
    imap_account.append(_mail(1))

    result = mailbox_poll(inbox=inbox)

    assert (result.imported, result.error) == (1, "")
    assert len(token_server.token_requests) == 2
    inbox.refresh_from_db()
    assert inbox.state == InboxState.ACTIVE


def test_a_revoked_grant_asks_the_administrators_once_and_pauses_the_mailbox(
    imap_account, token_server, administrators, django_capture_on_commit_callbacks
):
    token_server.grants[REFRESH] = imap_account.username
    inbox = _oauth_inbox(token_server, imap_url=imap_account.url(password="unused"))
    mailbox_poll(inbox=inbox)
    token_server.revoke(imap_account.username)  # the customer's administrator removed the app's access
    imap_account.append(_mail(1))

    with django_capture_on_commit_callbacks(execute=True):
        mailbox_poll(inbox=inbox)
        mailbox_poll(inbox=inbox)  # paused: not asked again, no second e-mail

    inbox.refresh_from_db()
    assert inbox.state == InboxState.REAUTHORISE
    assert "invalid_grant" in inbox.state_detail
    assert REFRESH not in inbox.state_detail and "app-secret" not in inbox.state_detail
    (notice,) = mail.outbox
    assert notice.to == ["chief@acme.test"] and "Acme support" in notice.subject
    assert "refresh token" in notice.body
    assert not Interaction.objects.exists()
    assert len(token_server.token_requests) == 3  # first poll, its renewal after the refusal; nothing while paused


def test_a_provider_that_is_down_is_noted_and_tried_again(imap_account, token_server):
    token_server.grants[REFRESH] = imap_account.username
    token_server.fail_with = 503
    inbox = _oauth_inbox(token_server, imap_url=imap_account.url(password="unused"))
    imap_account.append(_mail(1))

    result = mailbox_poll(inbox=inbox)

    assert "503" in result.error or "refused" in result.error
    assert "temporarily_unavailable" in MailboxCursor.objects.get(inbox=inbox).last_error
    inbox.refresh_from_db()
    assert inbox.state == InboxState.ACTIVE and not mail.outbox

    token_server.fail_with = None
    assert mailbox_poll(inbox=inbox).imported == 1


# --- SMTP: replies wait for working credentials ------------------------------------------------------------------------


def test_a_reply_goes_out_with_xoauth2_and_waits_when_the_grant_is_revoked(
    smtp_sink_factory, token_server, administrators, eager_tasks, django_capture_on_commit_callbacks
):
    account = corpus.SUPPORT
    token_server.grants[REFRESH] = account
    sink = smtp_sink_factory(tokens=token_server.tokens)  # the mail server trusts the provider's tokens
    inbox = _oauth_inbox(token_server, smtp_url=sink.url(user=account, password="unused"))
    work = email_work(inbox)

    with django_capture_on_commit_callbacks(execute=True):
        sent = reply(work, body="First answer.")
    assert delivery_of(sent).status == D.SENT and len(sink.received) == 1

    token_server.revoke(account)
    with django_capture_on_commit_callbacks(execute=True):
        waiting = reply(work, body="Second answer.")

    delivery = delivery_of(waiting)
    assert delivery.status == D.PENDING and delivery.attempts == 0
    assert delivery.error.startswith("waiting: the inbox Acme support needs re-authorisation")
    assert Message.objects.get(pk=waiting.pk).delivery_status == D.PENDING  # not failed: nothing is lost
    inbox.refresh_from_db()
    assert inbox.state == InboxState.REAUTHORISE
    (notice,) = mail.outbox
    assert "1 waiting" in notice.body and "no reply leaves" in notice.body

    # while the inbox waits nothing of it is published or sent
    assert delivery_publish_due() == 0
    assert delivery_send(delivery_id=delivery.pk) is None
    assert len(sink.received) == 1

    # the administrator consents again and marks the inbox re-authorised: the reply leaves
    token_server.grants["1//consented-again"] = account
    inbox.settings = {**inbox.settings, "oauth_refresh_token": "1//consented-again"}
    inbox.save(update_fields=["settings"])
    with django_capture_on_commit_callbacks(execute=True):
        assert inbox_mark_reauthorised(inbox=inbox) is True

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.error) == (D.SENT, 1, "")
    assert [received.message["Subject"] for received in sink.received][-1].startswith("Re: Printer is broken")
    assert "Second answer." in sink.received[-1].message.get_body(("plain",)).get_content()


def test_a_changed_smtp_password_holds_replies_instead_of_failing_them(
    smtp_sink_factory, administrators, eager_tasks, django_capture_on_commit_callbacks
):
    sink = smtp_sink_factory(credentials=("support", "new-password"))
    inbox = InboxFactory(
        name="Acme support",
        settings=EmailAdapter.validate_settings(
            {"address": corpus.SUPPORT, "smtp_url": sink.url(user="support", password="old-password")}
        ),
    )
    work = email_work(inbox)

    with django_capture_on_commit_callbacks(execute=True):
        first, second = reply(work, body="One."), reply(work, body="Two.")

    assert {delivery_of(first).status, delivery_of(second).status} == {D.PENDING}
    assert not sink.received and len(mail.outbox) == 1
    inbox.refresh_from_db()
    assert inbox.state == InboxState.REAUTHORISE and "old-password" not in inbox.state_detail

    inbox.settings = {**inbox.settings, "smtp_url": sink.url(user="support", password="new-password")}
    inbox.save(update_fields=["settings"])
    with django_capture_on_commit_callbacks(execute=True):
        inbox_mark_reauthorised(inbox=inbox)

    assert {delivery_of(first).status, delivery_of(second).status} == {D.SENT}
    assert sorted(r.message.get_body(("plain",)).get_content().strip()[:4] for r in sink.received) == ["One.", "Two."]
