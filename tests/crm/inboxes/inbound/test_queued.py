"""The queued import (inbox setting ``"import": "queued"``): the endpoint stores and answers 202, the drain
imports with the immediate import's results, in arrival order, each mail once. The drain runs in this process
here (the worker's path is ``test_queued_worker``); on-commit callbacks do not run in these tests, so nothing is
imported until the test drains."""

import pytest

from crm.inboxes.adapters.base import MalformedMessage
from crm.inboxes.adapters.email import EmailAdapter
from crm.inboxes.adapters.email.parse import (
    message_key,
    message_key_sender_and_named,
    parse_message,
)
from crm.inboxes.models import InboundReceipt, ReceiptStatus
from crm.inboxes.services.inbound import receipt_key
from crm.inboxes.services.queued import email_drain
from crm.interactions.models import Interaction
from tests.crm.inboxes.email import corpus
from tests.crm.inboxes.factories import InboxFactory

from .conftest import OWN_DOMAIN

pytestmark = pytest.mark.django_db


def _inbox(mode: str, **extra):
    return InboxFactory(
        settings=EmailAdapter.validate_settings(
            {"address": corpus.SUPPORT, "message_id_domain": OWN_DOMAIN, "import": mode}
        ),
        **extra,
    )


@pytest.fixture
def queued():
    return _inbox("queued")


def _outcome(receipt: InboundReceipt) -> tuple:
    """What a person sees of an import, whichever way it ran."""
    interaction = receipt.interaction
    return (
        receipt.status,
        receipt.reason,
        bytes(receipt.raw) if receipt.raw is not None else None,
        receipt.sender,
        receipt.participants,
        receipt.key,
        interaction and (interaction.subject, interaction.status, interaction.customer.email, interaction.channel),
        receipt.message and receipt.message.body,
    )


def test_a_queued_mail_is_answered_202_and_imported_only_by_the_drain(queued, post_mail):
    raw = corpus.alternative()
    response = post_mail(queued, raw)

    receipt = InboundReceipt.objects.get()
    assert response.status_code == 202
    assert response.json() == {"receipt": receipt.pk, "status": "queued", "interaction": None, "message": None}
    assert (receipt.status, bytes(receipt.raw), receipt.size, receipt.key) == (
        ReceiptStatus.QUEUED,
        raw,
        len(raw),
        "CAF=abc123@mail.gmail.com",
    )
    assert not Interaction.objects.exists()

    assert email_drain(inbox_id=queued.pk) == 1

    receipt.refresh_from_db()
    interaction = Interaction.objects.get()
    assert (receipt.status, receipt.raw, receipt.interaction, receipt.message) == (
        ReceiptStatus.IMPORTED,
        None,
        interaction,
        interaction.messages.get(),
    )
    assert (interaction.inbox, interaction.queue, interaction.subject) == (queued, queued.queue, "Printer is broken")
    assert receipt.sender == corpus.CUSTOMER and receipt.participants == [corpus.CUSTOMER]


MAILS = {
    "new": corpus.alternative,
    "auto-reply": lambda: corpus.auto_reply("Auto-Submitted", "auto-replied"),
    "bounce": corpus.dsn_bounce,
    "no message id": lambda: corpus.message(message_id=None).as_bytes(),
    "malformed": lambda: b"Subject: no sender at all\r\n\r\nWho wrote this?\r\n",
    "own address": lambda: corpus.message(sender=corpus.SUPPORT).as_bytes(),
}


@pytest.mark.parametrize("shape", MAILS)
def test_the_drain_decides_as_the_immediate_import_does(queued, post_mail, shape):
    immediate = _inbox("immediate")
    raw = MAILS[shape]()

    post_mail(immediate, raw)
    post_mail(queued, raw)
    email_drain(inbox_id=queued.pk)

    now = InboundReceipt.objects.select_related("interaction__customer", "message").get(inbox=immediate)
    later = InboundReceipt.objects.select_related("interaction__customer", "message").get(inbox=queued)
    assert later.status != ReceiptStatus.QUEUED
    assert _outcome(later) == _outcome(now)


def test_a_reply_drained_with_its_original_joins_its_thread(queued, post_mail):
    original = corpus.message(message_id="<first@example.com>").as_bytes()
    reply = corpus.message(
        subject="Re: Printer is broken",
        body="Still broken.",
        message_id="<second@example.com>",
        headers={"In-Reply-To": "<first@example.com>", "References": "<first@example.com>"},
    ).as_bytes()

    assert [post_mail(queued, raw).status_code for raw in (original, reply)] == [202, 202]
    assert email_drain(inbox_id=queued.pk, batch=5) == 2

    interaction = Interaction.objects.get()
    assert list(interaction.messages.order_by("id").values_list("body", flat=True))[-1] == "Still broken."
    assert set(InboundReceipt.objects.values_list("status", "interaction")) == {
        (ReceiptStatus.IMPORTED, interaction.pk)
    }


@pytest.mark.parametrize("batch", [1, 5], ids=["the original beyond the reply's batch", "both in one batch"])
def test_a_reply_stored_before_its_original_still_joins_it(queued, post_mail, batch):
    # an MTA retried the original later: its reply reached the queue first
    for raw in (corpus.conversation(0, 1), corpus.conversation(1, 0), corpus.conversation(0, 0)):
        assert post_mail(queued, raw).status_code == 202

    assert email_drain(inbox_id=queued.pk, batch=batch, rounds=5) == 3

    assert Interaction.objects.count() == 2  # the reply started nothing of its own
    thread = Interaction.objects.get(subject="Case 0")
    assert list(thread.messages.order_by("id").values_list("body", flat=True)) == ["thread 0 step 0", "thread 0 step 1"]
    assert set(InboundReceipt.objects.values_list("status", flat=True)) == {ReceiptStatus.IMPORTED}


def test_two_mails_each_answering_the_other_are_imported_once_each_in_arrival_order(queued, post_mail):
    def forged(name: str, other: str) -> bytes:
        return corpus.message(
            subject="Loop",
            body=name,
            message_id=f"<{name}@example.com>",
            headers={"In-Reply-To": f"<{other}@example.com>"},
        ).as_bytes()

    for raw in (forged("one", "two"), forged("two", "one")):
        post_mail(queued, raw)

    assert email_drain(inbox_id=queued.pk, batch=5) == 2

    [interaction] = Interaction.objects.all()  # the first opened it, the second answers it
    assert list(interaction.messages.order_by("id").values_list("body", flat=True)) == ["one", "two"]


def test_a_duplicate_is_answered_200_and_stored_once(queued, post_mail):
    first = post_mail(queued, corpus.alternative())
    again = post_mail(queued, corpus.alternative())

    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json() == first.json()
    email_drain(inbox_id=queued.pk)
    late = post_mail(queued, corpus.alternative())

    receipt = InboundReceipt.objects.get()
    assert late.status_code == 200
    assert late.json() == {
        "receipt": receipt.pk,
        "status": "imported",
        "interaction": receipt.interaction_id,
        "message": receipt.message_id,
    }
    assert Interaction.objects.count() == 1


def test_a_failed_mail_delivered_again_is_queued_again(queued, post_mail):
    raw = b"Subject: no sender at all\r\nMessage-ID: <broken@example.com>\r\n\r\nWho?\r\n"
    post_mail(queued, raw)
    email_drain(inbox_id=queued.pk)
    assert InboundReceipt.objects.get().status == ReceiptStatus.FAILED

    response = post_mail(queued, raw)

    receipt = InboundReceipt.objects.get()
    assert response.status_code == 202 and response.json()["status"] == "queued"
    assert (receipt.status, receipt.attempts, bytes(receipt.raw)) == (ReceiptStatus.QUEUED, 2, raw)


@pytest.mark.parametrize(
    "raw",
    [
        corpus.message(message_id=None).as_bytes(),
        corpus.message(message_id=None).as_bytes().replace(b"\n", b"\r\n"),
        b"\r\n\r\n" + corpus.message(message_id=None).as_bytes(),
        corpus.message(message_id=None, headers={"Received": "from a by b", "Cc": "x@y.test"}).as_bytes(),
        corpus.alternative(),
        corpus.message(message_id="no-brackets@example.com").as_bytes(),
        corpus.message(message_id=f"<{'x' * 400}@example.com>").as_bytes(),
        corpus.dsn_bounce(),
        corpus.windows_1258()[0],
        corpus.message(message_id=None).as_bytes().replace(b"From:", b"Message-ID: <>\nFrom:", 1),
    ],
)
def test_the_headers_only_key_is_the_full_parse_s(raw):
    assert message_key(raw) == parse_message(raw).message_id
    full = parse_message(raw)
    key, sender, named = message_key_sender_and_named(raw)
    assert (key, sender) == (full.message_id, full.sender)
    assert named == (full.sender, full.reply_to or "", *full.to, *full.cc)
    key = receipt_key(message_id=message_key(raw), raw=raw)
    assert key == receipt_key(message_id=parse_message(raw).message_id, raw=raw)


def test_a_mail_without_message_id_gets_the_same_receipt_key_both_ways(queued, post_mail):
    immediate = _inbox("immediate")
    raw = corpus.message(message_id=None, body="No id here.").as_bytes()

    post_mail(immediate, raw)
    post_mail(queued, raw.replace(b"\n", b"\r\n"))

    keys = set(InboundReceipt.objects.values_list("key", flat=True))
    assert len(keys) == 1 and keys.pop().endswith("@synthetic.switchboard.invalid")


def test_headers_the_full_parse_refuses_are_refused_alike():
    for raw in (b"", b"\r\n \r\n", b"no header line at all", b"Subject: x\r\n\r\nno sender"):
        with pytest.raises(MalformedMessage):
            message_key(raw)
        with pytest.raises(MalformedMessage):
            parse_message(raw)


def test_queued_mode_with_an_inactive_inbox_is_not_found(post_mail):
    inactive = _inbox("queued", is_active=False)

    assert post_mail(inactive, corpus.alternative()).status_code == 404
    assert not InboundReceipt.objects.exists()


def test_the_endpoint_s_refusals_are_the_same_in_queued_mode(queued, post_mail, client, settings):
    settings.SWITCHBOARD_EMAIL_MAX_BYTES = 1000
    url = f"/inbound/email/{queued.token}/"

    assert client.get(url).status_code == 405
    assert post_mail(queued, corpus.alternative(), content_type="text/plain").status_code == 415
    assert post_mail(queued, b"\r\n \r\n").status_code == 400
    assert post_mail(queued, corpus.message(body="x" * 2000).as_bytes()).status_code == 413
    assert not InboundReceipt.objects.exists()


def test_queued_mail_naming_an_erased_customer_in_cc_is_never_imported(queued, post_mail):
    # the erased customer did not write it: a colleague did, with them in Cc; the receipt names them before its
    # import (the full parse's participants, from the headers alone), so the erasure finds it in the queue
    from crm.privacy.services.erase import erasure_request, erasure_run
    from tests.contacts.factories import CustomerFactory

    erased = "cc.person@example.com"
    raw = corpus.message(headers={"Cc": f"Cc Person <{erased}>"}).as_bytes()
    customer = CustomerFactory(email=erased)
    post_mail(queued, raw)
    assert InboundReceipt.objects.get().participants == [corpus.CUSTOMER, erased]
    erasure_run(erasure_id=erasure_request(customer=customer, reason="asked", immediately=True).pk)

    assert email_drain(inbox_id=queued.pk) == 1

    receipt = InboundReceipt.objects.get()
    assert (receipt.status, receipt.raw, receipt.participants) == (ReceiptStatus.FAILED, None, [])
    assert receipt.reason == "erased before it was imported: nothing to import"
    assert not Interaction.objects.exists()


def test_queued_mail_of_an_erased_customer_is_never_imported(queued, post_mail):
    from crm.privacy.services.erase import erasure_request, erasure_run
    from tests.contacts.factories import CustomerFactory

    raw = corpus.alternative()
    customer = CustomerFactory(email=corpus.CUSTOMER)
    post_mail(queued, raw)  # they wrote again, and asked to be forgotten before the drain came
    erasure_run(erasure_id=erasure_request(customer=customer, reason="asked", immediately=True).pk)

    assert email_drain(inbox_id=queued.pk) == 1

    receipt = InboundReceipt.objects.get()
    assert (receipt.status, receipt.raw, receipt.sender) == (ReceiptStatus.FAILED, None, "")
    assert receipt.reason == "erased before it was imported: nothing to import"
    assert not Interaction.objects.exists()
