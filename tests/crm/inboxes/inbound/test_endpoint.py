"""The raw-MIME inbound endpoint with the corpus of real-world mail: what an MTA gets back, and what the agents
then find (the interaction, its message, the files)."""

from email.message import EmailMessage

import pytest
from django.core.files.storage import default_storage

from crm.choices import InteractionStatus, MessageDirection
from crm.inboxes.models import InboundReceipt, ReceiptStatus
from crm.interactions.models import Interaction, Message
from tests.crm.inboxes.email import corpus
from tests.crm.inboxes.factories import InboxFactory

pytestmark = pytest.mark.django_db


def _read(entry: dict) -> bytes:
    with default_storage.open(entry["path"]) as handle:
        return handle.read()


def _files(message: Message) -> dict[str, dict]:
    return {entry["name"]: entry for entry in message.attachments}


def test_a_new_mail_becomes_a_queued_email_interaction_of_the_inbox(inbox, post_mail):
    response = post_mail(inbox, corpus.alternative())

    assert response.status_code == 201
    interaction = Interaction.objects.get()
    message = interaction.messages.get()
    receipt = InboundReceipt.objects.get()
    assert response.json() == {
        "receipt": receipt.pk,
        "status": "imported",
        "interaction": interaction.pk,
        "message": message.pk,
    }
    assert (interaction.channel, interaction.inbox, interaction.queue) == ("email", inbox, inbox.queue)
    assert interaction.status == InteractionStatus.QUEUED and interaction.subject == "Printer is broken"
    assert (interaction.customer.name, interaction.customer.email) == ("Anna Kovacs", corpus.CUSTOMER)
    assert message.direction == MessageDirection.INBOUND and message.inbox == inbox
    assert message.body == "Hello,\n\nthe invoice is wrong." and message.external_id == "CAF=abc123@mail.gmail.com"
    html = _files(message)["message.html"]
    assert html["body_html"] is True and html["content_type"] == "text/html"
    assert "<b>invoice</b>" in _read(html).decode() and "<td>42 EUR</td>" in _read(html).decode()
    assert (receipt.status, receipt.key, receipt.source, receipt.raw) == (
        ReceiptStatus.IMPORTED,
        "CAF=abc123@mail.gmail.com",
        "endpoint",
        None,
    )
    assert receipt.sender == corpus.CUSTOMER and receipt.participants == [corpus.CUSTOMER]


def test_html_only_mail_reads_as_text_and_keeps_its_html_without_scripts(inbox, post_mail):
    assert post_mail(inbox, corpus.html_only()).status_code == 201

    message = Message.objects.get()
    assert "Order #1234 never arrived." in message.body and "+36 1 234 5678" in message.body
    assert "steal()" not in message.body
    html = _read(_files(message)["message.html"]).decode()
    assert "<br>" in html and "<b>#1234</b>" in html
    for hostile in ("<script", "onload", "onerror", "javascript:"):
        assert hostile not in html


@pytest.mark.parametrize("shape", ["windows_1258", "latin1_undeclared", "utf16"])
def test_mail_in_other_charsets_loses_nothing(inbox, post_mail, shape):
    raw, text, *subject = getattr(corpus, shape)()

    assert post_mail(inbox, raw).status_code == 201

    interaction = Interaction.objects.get()
    assert interaction.messages.get().body == text
    assert "\ufffd" not in interaction.subject + interaction.customer.name
    if subject:
        assert interaction.subject == subject[0]


def test_an_inline_image_is_stored_with_its_content_id_for_the_html_body(inbox, post_mail):
    assert post_mail(inbox, corpus.inline_image()).status_code == 201

    image = _files(Message.objects.get())["error.png"]
    assert (image["content_type"], image["inline"], image["content_id"], image["size"]) == (
        "image/png",
        True,
        "err-1@apple.example",
        len(corpus.PNG),
    )
    assert _read(image) == corpus.PNG
    assert image["path"].startswith(f"inbox/{Message.objects.get().inbox_id}/")
    assert image["path"].endswith("/error.png")


def test_a_forwarded_mail_keeps_the_original_text_and_its_attachment(inbox, post_mail):
    assert post_mail(inbox, corpus.forwarded()).status_code == 201

    message = Message.objects.get()
    assert message.body.startswith("This never arrived, see below.")
    assert "Your order 1234 was shipped." in message.body
    assert _read(_files(message)["receipt.pdf"]) == b"%PDF-1.4 receipt"
    assert message.interaction.customer.email == corpus.CUSTOMER  # the forwarder, not the shop


def test_rfc2231_and_encoded_filenames_are_kept(inbox, post_mail):
    assert post_mail(inbox, corpus.rfc2231_filename()).status_code == 201

    assert set(_files(Message.objects.get())) == {"Rechnung Müller € Juni.pdf", "élèments.txt"}


@pytest.mark.parametrize(
    "header,value",
    [("Auto-Submitted", "auto-replied"), ("X-Autoreply", "yes"), ("Precedence", "bulk"), ("X-Loop", "support")],
)
def test_an_auto_reply_is_recorded_but_opens_no_work(inbox, post_mail, header, value):
    response = post_mail(inbox, corpus.auto_reply(header, value))

    assert response.status_code == 201
    assert response.json()["status"] == "noise" and response.json()["interaction"] is None
    receipt = InboundReceipt.objects.get()
    assert receipt.status == ReceiptStatus.NOISE and header in receipt.reason
    assert not Interaction.objects.exists() and not Message.objects.exists()


def test_a_bounce_is_recorded_with_what_failed_and_opens_no_work(inbox, post_mail):
    response = post_mail(inbox, corpus.dsn_bounce())

    assert response.status_code == 201 and response.json()["status"] == "noise"
    assert "Delivery failed for anna.kovacs@exmaple.com (5.1.1" in InboundReceipt.objects.get().reason
    assert not Interaction.objects.exists()


def test_a_mail_from_the_inbox_s_own_address_is_a_loop_not_a_customer(inbox, post_mail):
    raw = corpus.message(sender=f"Acme <{corpus.SUPPORT}>", message_id="<loop@acme.test>").as_bytes()

    assert post_mail(inbox, raw).json()["status"] == "noise"
    assert not Interaction.objects.exists()


def test_an_attachment_over_the_limit_is_listed_for_the_agent_not_dropped(inbox, post_mail, settings):
    settings.SWITCHBOARD_EMAIL_MAX_ATTACHMENT_BYTES = 1000
    mail = corpus.message(body="Logs attached.")
    mail.add_attachment(b"x" * 5000, maintype="application", subtype="zip", filename="logs.zip")
    mail.add_attachment(b"small", maintype="text", subtype="plain", filename="note.txt")

    assert post_mail(inbox, mail.as_bytes()).status_code == 201

    files = _files(Message.objects.get())
    assert files["logs.zip"]["size"] == 5000 and "1000 bytes" in files["logs.zip"]["skipped"]
    assert "path" not in files["logs.zip"]
    assert _read(files["note.txt"]) == b"small"


def test_a_message_over_the_size_limit_is_refused_and_nothing_is_stored(inbox, post_mail, media):
    mail = corpus.message(body="The video of the fault.")
    mail.add_attachment(b"\x00" * (20 * 1024 * 1024), maintype="video", subtype="mp4", filename="fault.mp4")
    raw = mail.as_bytes()
    assert len(raw) > 25 * 1024 * 1024  # 20 MB, base64-encoded

    response = post_mail(inbox, raw)

    assert response.status_code == 413 and str(25 * 1024 * 1024) in response.json()["detail"]
    assert not InboundReceipt.objects.exists() and not Interaction.objects.exists()
    assert not media.exists() or not any(media.rglob("*"))


def test_the_size_limit_is_a_setting(inbox, post_mail, settings):
    raw = corpus.message().as_bytes()
    settings.SWITCHBOARD_EMAIL_MAX_BYTES = len(raw) - 1

    assert post_mail(inbox, raw).status_code == 413

    settings.SWITCHBOARD_EMAIL_MAX_BYTES = len(raw)
    assert post_mail(inbox, raw).status_code == 201


def test_malformed_mail_is_kept_as_a_failed_import_with_its_reason_never_a_500(inbox, post_mail):
    raw = b"Subject: no sender at all\r\n\r\nWho wrote this?\r\n"

    response = post_mail(inbox, raw)

    assert response.status_code == 202
    receipt = InboundReceipt.objects.get()
    assert response.json() == {"receipt": receipt.pk, "status": "failed", "interaction": None, "message": None}
    assert "no sender address" in receipt.reason
    assert bytes(receipt.raw) == raw and receipt.size == len(raw)
    assert not Interaction.objects.exists()


def test_the_same_mail_posted_twice_is_imported_once(inbox, post_mail):
    first = post_mail(inbox, corpus.alternative())
    again = post_mail(inbox, corpus.alternative())

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert Interaction.objects.count() == 1 and InboundReceipt.objects.count() == 1


def test_a_mail_without_message_id_is_imported_once_by_its_content(inbox, post_mail):
    raw = corpus.message(message_id=None).as_bytes()

    first, again = post_mail(inbox, raw), post_mail(inbox, raw.replace(b"\n", b"\r\n"))

    assert (first.status_code, again.status_code) == (201, 200)
    assert Interaction.objects.count() == 1
    assert InboundReceipt.objects.get().key.endswith("@synthetic.switchboard.invalid")


def test_the_same_message_id_at_two_inboxes_is_two_contacts(inbox, post_mail):
    other = InboxFactory()

    assert post_mail(inbox, corpus.alternative()).status_code == 201
    assert post_mail(other, corpus.alternative()).status_code == 201

    assert set(Interaction.objects.values_list("inbox", flat=True)) == {inbox.pk, other.pk}


def test_octet_stream_is_accepted_and_other_types_are_refused(inbox, post_mail):
    assert post_mail(inbox, corpus.alternative(), content_type="text/plain").status_code == 415
    assert post_mail(inbox, corpus.alternative(), content_type="application/x-www-form-urlencoded").status_code == 415
    assert not InboundReceipt.objects.exists()

    assert post_mail(inbox, corpus.alternative(), content_type="application/octet-stream").status_code == 201


def test_an_unknown_or_inactive_token_is_not_found(inbox, post_mail, client):
    inactive = InboxFactory(is_active=False)

    assert post_mail(inactive, corpus.alternative()).status_code == 404
    inbox.token = "not-" + inbox.token
    assert post_mail(inbox, corpus.alternative()).status_code == 404
    assert not InboundReceipt.objects.exists()


def test_only_post_and_a_body_are_accepted(inbox, post_mail, client):
    url = f"/inbound/email/{inbox.token}/"

    assert client.get(url).status_code == 405
    assert post_mail(inbox, b"\r\n \r\n").status_code == 400
    assert not InboundReceipt.objects.exists()


def test_no_csrf_token_and_no_session_are_needed(inbox):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.generic(
        "POST", f"/inbound/email/{inbox.token}/", corpus.alternative(), content_type="message/rfc822"
    )

    assert response.status_code == 201
    assert "sessionid" not in response.cookies


def test_an_empty_body_mail_still_reaches_the_agent(inbox, post_mail):
    mail = EmailMessage()
    mail["From"] = corpus.CUSTOMER
    mail["Subject"] = "See attachment"
    mail["Message-ID"] = "<empty@example.com>"
    mail.add_attachment(b"%PDF", maintype="application", subtype="pdf", filename="invoice.pdf")

    assert post_mail(inbox, mail.as_bytes()).status_code == 201

    message = Message.objects.get()
    assert message.body == "(no text)" and "invoice.pdf" in _files(message)


def test_a_long_mail_is_shortened_for_display_and_kept_whole(inbox, post_mail, settings):
    settings.SWITCHBOARD_MAX_MESSAGE_LENGTH = 500
    text = "\n".join(f"Line {n} of the log." for n in range(200))

    assert post_mail(inbox, corpus.message(body=text).as_bytes()).status_code == 201

    message = Message.objects.get()
    assert len(message.body) <= 500 and message.body.startswith("Line 0 of the log.")
    assert "shortened" in message.body
    whole = _files(message)["message.txt"]
    assert whole["body_text"] is True and _read(whole).decode().strip() == text
