"""Importing from a real IMAP server (dovecot on loopback), as the poller will: by UID, with a cursor."""

from email import policy

import pytest
from imap_tools import imap_utf7

from crm.inboxes.adapters.base import AuthenticationFailed, PermanentFailure, TemporaryFailure
from crm.inboxes.adapters.email.imap import fetch_new, mark_imported
from crm.inboxes.adapters.email.parse import parse_message
from tests.crm.inboxes.email import corpus
from tests.support.ports import free_port


def _mail(n: int) -> bytes:
    return corpus.message(
        subject=f"Question {n}", body=f"Question number {n}.", message_id=f"<q{n}@example.com>"
    ).as_bytes(policy=policy.SMTP)  # CRLF line endings, as IMAP stores and returns them


def _subjects(result) -> list[str]:
    return [parse_message(message.raw).subject for message in result.messages]


def test_first_import_takes_every_message_read_or_not_in_uid_order(imap_account):
    for n in range(1, 6):
        imap_account.append(_mail(n), flags="\\Seen" if n == 3 else "")  # 3 was read in another client

    result = fetch_new(imap_account.url(), uidvalidity=None, last_uid=0)

    assert _subjects(result) == [f"Question {n}" for n in range(1, 6)]
    assert [message.uid for message in result.messages] == [1, 2, 3, 4, 5]
    assert result.messages[2].flags == ("\\Seen",)
    assert result.last_uid == 5 and not result.more and not result.uidvalidity_changed
    assert result.messages[0].raw == _mail(1)  # byte for byte what was delivered
    assert result.messages[0].size == len(_mail(1))


def test_fetching_changes_no_flag_on_the_server(imap_account):
    imap_account.append(_mail(1))

    fetch_new(imap_account.url(), uidvalidity=None, last_uid=0)

    with imap_account.client() as client:
        _, data = client.uid("FETCH", "1", "(FLAGS)")
    assert b"\\Seen" not in data[0]


def test_the_cursor_makes_a_second_run_import_nothing_and_then_only_what_is_new(imap_account):
    for n in range(1, 6):
        imap_account.append(_mail(n))
    first = fetch_new(imap_account.url(), uidvalidity=None, last_uid=0)

    again = fetch_new(imap_account.url(), uidvalidity=first.uidvalidity, last_uid=first.last_uid)
    assert again.messages == [] and again.last_uid == 5 and not again.more

    imap_account.append(_mail(6))
    imap_account.append(_mail(7))
    later = fetch_new(imap_account.url(), uidvalidity=first.uidvalidity, last_uid=again.last_uid)

    assert _subjects(later) == ["Question 6", "Question 7"]
    assert later.last_uid == 7


def test_backfill_after_downtime_comes_in_bounded_batches(imap_account):
    for n in range(1, 12):
        imap_account.append(_mail(n))
    cursor, uidvalidity, batches = 0, None, []

    while True:
        result = fetch_new(imap_account.url(), uidvalidity=uidvalidity, last_uid=cursor, batch=4)
        batches.append([message.uid for message in result.messages])
        cursor, uidvalidity = result.last_uid, result.uidvalidity
        if not result.more:
            break

    assert batches == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11]]


def test_a_batch_stays_within_its_byte_budget_but_always_takes_one(imap_account):
    big = corpus.message(subject="Big", body="x" * 30_000).as_bytes()
    for _ in range(3):
        imap_account.append(big)

    first = fetch_new(imap_account.url(), uidvalidity=None, last_uid=0, max_batch_bytes=10_000)
    assert [message.uid for message in first.messages] == [1] and first.more

    second = fetch_new(imap_account.url(), uidvalidity=first.uidvalidity, last_uid=1, max_batch_bytes=70_000)
    assert [message.uid for message in second.messages] == [2, 3] and not second.more


def test_a_message_over_the_size_limit_is_reported_without_its_bytes(imap_account):
    imap_account.append(corpus.message(subject="Huge", body="y" * 50_000).as_bytes())
    imap_account.append(_mail(2))

    result = fetch_new(imap_account.url(), uidvalidity=None, last_uid=0, max_message_bytes=20_000)

    huge, small = result.messages
    assert huge.raw is None and huge.size > 50_000
    assert small.raw == _mail(2) and result.last_uid == 2


def test_a_changed_uidvalidity_offers_the_folder_again_from_the_start(imap_account):
    folder = "Support"
    with imap_account.client() as client:
        client.create(folder)
    imap_account.append(_mail(1), folder=folder)
    imap_account.append(_mail(2), folder=folder)
    first = fetch_new(imap_account.url(folder), uidvalidity=None, last_uid=0)
    assert first.last_uid == 2

    # An administrator recreates the folder (or restores it from a backup): new UIDVALIDITY, UIDs start over.
    with imap_account.client() as client:
        client.delete(folder)
        client.create(folder)
    imap_account.append(_mail(3), folder=folder)

    result = fetch_new(imap_account.url(folder), uidvalidity=first.uidvalidity, last_uid=first.last_uid)

    assert result.uidvalidity_changed and result.uidvalidity != first.uidvalidity
    assert _subjects(result) == ["Question 3"]  # its UID is 1: a plain "UID > 2" would have missed it
    assert result.last_uid == 1


def test_a_folder_with_a_non_ascii_name_is_read(imap_account):
    folder = "Ügyfélszolgálat"
    with imap_account.client() as client:
        client.create(imap_utf7.utf7_encode(folder))
    imap_account.append(_mail(1), folder=imap_utf7.utf7_encode(folder).decode())

    result = fetch_new(imap_account.url(folder), uidvalidity=None, last_uid=0)

    assert _subjects(result) == ["Question 1"]


def test_marking_imported_messages_sets_the_flag_only_on_them(imap_account):
    for n in range(1, 4):
        imap_account.append(_mail(n))
    result = fetch_new(imap_account.url(), uidvalidity=None, last_uid=0)

    assert mark_imported(imap_account.url(), uidvalidity=result.uidvalidity, uids=[1, 2])

    with imap_account.client() as client:
        _, data = client.uid("SEARCH", "SEEN")
    assert data[0].split() == [b"1", b"2"]
    assert not mark_imported(imap_account.url(), uidvalidity=result.uidvalidity + 1, uids=[3])


def test_a_custom_keyword_can_mark_instead_of_seen(imap_account):
    imap_account.append(_mail(1))
    result = fetch_new(imap_account.url(), uidvalidity=None, last_uid=0)

    mark_imported(imap_account.url(), uidvalidity=result.uidvalidity, uids=[1], flag="$SwitchboardImported")

    with imap_account.client() as client:
        _, data = client.uid("FETCH", "1", "(FLAGS)")
    assert b"$SwitchboardImported" in data[0] and b"\\Seen" not in data[0]


def test_a_wrong_password_is_an_authentication_failure(imap_account):
    with pytest.raises(AuthenticationFailed) as caught:
        fetch_new(imap_account.url(password="not-the-password"), uidvalidity=None, last_uid=0)

    assert imap_account.username in caught.value.reason
    assert "not-the-password" not in caught.value.reason


def test_a_missing_folder_is_a_permanent_configuration_error(imap_account):
    with pytest.raises(PermanentFailure) as caught:
        fetch_new(imap_account.url("Nonexistent"), uidvalidity=None, last_uid=0)

    assert not isinstance(caught.value, AuthenticationFailed)
    assert "'Nonexistent'" in caught.value.reason


def test_an_unreachable_server_is_temporary():
    url = f"imap://user:pw@127.0.0.1:{free_port()}/INBOX"

    with pytest.raises(TemporaryFailure):
        fetch_new(url, uidvalidity=None, last_uid=0, timeout=3)


def test_an_empty_mailbox_imports_nothing(imap_account):
    result = fetch_new(imap_account.url(), uidvalidity=None, last_uid=0)

    assert result.messages == [] and result.last_uid == 0 and result.uidvalidity > 0


@pytest.mark.parametrize("tls", ["starttls", "implicit"])
def test_encrypted_connections(imap_account, certificate, tls):
    if certificate is None:
        pytest.skip("openssl is needed to make a test certificate")
    imap_account.append(_mail(1))

    result = fetch_new(
        imap_account.url(tls=tls), uidvalidity=None, last_uid=0, ssl_context=certificate.client_context()
    )

    assert _subjects(result) == ["Question 1"]


def test_an_untrusted_certificate_is_a_permanent_failure(imap_account, certificate):
    if certificate is None:
        pytest.skip("openssl is needed to make a test certificate")

    with pytest.raises(PermanentFailure) as caught:
        fetch_new(imap_account.url(tls="implicit"), uidvalidity=None, last_uid=0)  # system trust store

    assert "certificate" in caught.value.reason


def test_xoauth2_token_logs_in_and_a_revoked_token_is_an_authentication_failure(imap_account, token_server):
    imap_account.append(_mail(1))
    token_server.tokens["ya29.valid-token"] = imap_account.username
    url = imap_account.url(password="unused")

    result = fetch_new(url, uidvalidity=None, last_uid=0, access_token="ya29.valid-token")
    assert _subjects(result) == ["Question 1"]

    del token_server.tokens["ya29.valid-token"]  # the customer's administrator revoked the app's access
    with pytest.raises(AuthenticationFailed) as caught:
        fetch_new(url, uidvalidity=None, last_uid=0, access_token="ya29.valid-token")

    assert "ya29" not in caught.value.reason
