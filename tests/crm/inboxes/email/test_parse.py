"""Parsing real-world mail shapes: bodies, charsets, attachments, threading keys."""

import datetime

from crm.inboxes.adapters.email.parse import SYNTHETIC_DOMAIN, parse_message
from tests.crm.inboxes.email import corpus


def test_alternative_mail_gives_text_and_sanitised_html():
    parsed = parse_message(corpus.alternative())

    assert parsed.sender == corpus.CUSTOMER
    assert parsed.sender_name == "Anna Kovacs"
    assert parsed.to == (corpus.SUPPORT,)
    assert parsed.subject == "Printer is broken"
    assert parsed.text == "Hello,\n\nthe invoice is wrong."
    assert "<b>invoice</b>" in parsed.html and "<td>42 EUR</td>" in parsed.html
    assert parsed.message_id == "CAF=abc123@mail.gmail.com"
    assert not parsed.message_id_synthetic
    assert parsed.date == datetime.datetime(2024, 6, 3, 10, 15, tzinfo=datetime.UTC)
    assert parsed.attachments == [] and not parsed.is_noise


def test_html_only_mail_gets_its_text_from_the_html_and_loses_its_scripts():
    parsed = parse_message(corpus.html_only())

    assert parsed.text == "Order #1234 never arrived.\n\nPlease call me back\nat +36 1 234 5678.\n\nclick"
    assert "steal" not in parsed.html and "onload" not in parsed.html and "onerror" not in parsed.html
    assert "javascript:" not in parsed.html and "color:red" not in parsed.html
    assert "<b>#1234</b>" in parsed.html and "<br>" in parsed.html


def test_windows_1258_text_and_subject_are_decoded_whole():
    raw, text, subject = corpus.windows_1258()

    parsed = parse_message(raw)

    assert b"hoa=F2t" in raw  # a combining tone mark: the text is not simply latin
    assert parsed.text == text
    assert parsed.subject == subject


def test_undeclared_latin1_keeps_every_character_of_headers_and_body():
    raw, text = corpus.latin1_undeclared()

    parsed = parse_message(raw)

    assert parsed.text == text
    assert parsed.subject == "Beschädigte Lieferung"
    assert parsed.sender_name == "Jürgen Müller"
    assert "\ufffd" not in parsed.text + parsed.subject


def test_utf16_body_is_decoded():
    raw, text = corpus.utf16()

    assert parse_message(raw).text == text


def test_utf8_declared_but_latin1_sent_is_read_as_latin1_not_replaced():
    raw = (
        b"From: a@example.com\r\nSubject: x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        b"Caf\xe9 cr\xe8me \x80 5\r\n"
    )

    assert parse_message(raw).text == "Café crème € 5"


def test_unknown_charset_falls_back_without_losing_text():
    raw = b"From: a@example.com\r\nSubject: =?x-mystery?Q?Gr=FC=DFe?=\r\nContent-Type: text/plain; charset=x-mystery\r\n\r\nna\xefve\r\n"

    parsed = parse_message(raw)

    assert parsed.subject == "Grüße"
    assert parsed.text == "naïve"


def test_rfc2231_and_encoded_word_filenames_are_decoded():
    parsed = parse_message(corpus.rfc2231_filename())

    assert [a.filename for a in parsed.attachments] == ["Rechnung Müller € Juni.pdf", "élèments.txt"]
    assert parsed.attachments[0].data == b"%PDF-1.4\n"
    assert parsed.attachments[0].content_type == "application/pdf"
    assert parsed.attachments[1].data == b"notes"
    assert parsed.text == "See attached."  # the text/plain attachment is not mistaken for the body


def test_inline_image_is_an_inline_attachment_with_its_content_id():
    parsed = parse_message(corpus.inline_image())

    (image,) = parsed.attachments
    assert (image.filename, image.content_type, image.inline, image.content_id) == (
        "error.png",
        "image/png",
        True,
        "err-1@apple.example",
    )
    assert image.data == corpus.PNG and image.size == len(corpus.PNG)
    assert 'src="cid:err-1@apple.example"' in parsed.html  # the console can point it at the stored file


def test_forwarded_message_shows_its_text_and_keeps_its_attachment():
    parsed = parse_message(corpus.forwarded())

    assert parsed.text.startswith("This never arrived, see below.")
    assert "---------- Forwarded message ----------" in parsed.text
    assert "From: Shop <orders@shop.example>" in parsed.text
    assert "Your order 1234 was shipped." in parsed.text
    assert [a.filename for a in parsed.attachments] == ["receipt.pdf"]
    assert "Your order 1234 was shipped." in parsed.text_display  # a forward is content, not quoted history


def test_missing_message_id_gets_a_stable_synthetic_key():
    raw = corpus.message(message_id=None).as_bytes()
    # The same mail delivered another way: an MTA added a trace header, and LF line endings instead of CRLF.
    other_delivery = b"Received: from mx by mx2; Mon, 3 Jun 2024 10:16:00 +0000\n" + raw.replace(b"\r\n", b"\n")
    different = corpus.message(message_id=None, body="Another text").as_bytes()

    first, second = parse_message(raw), parse_message(other_delivery)

    assert first.message_id_synthetic and first.message_id.endswith("@" + SYNTHETIC_DOMAIN)
    assert first.message_id == second.message_id
    assert parse_message(different).message_id != first.message_id


def test_attachment_over_the_limit_is_listed_as_skipped_not_dropped():
    mail = corpus.message(subject="Logs")
    mail.add_attachment(b"x" * (20 * 1024 * 1024), maintype="application", subtype="zip", filename="logs.zip")
    mail.add_attachment(b"small", maintype="text", subtype="plain", filename="note.txt")

    parsed = parse_message(mail.as_bytes(), max_attachment_bytes=10 * 1024 * 1024)

    assert [a.filename for a in parsed.attachments] == ["note.txt"]
    (skipped,) = parsed.skipped_attachments
    assert (skipped.filename, skipped.size, skipped.content_type) == ("logs.zip", 20 * 1024 * 1024, "application/zip")
    assert "10485760 bytes" in skipped.reason
    assert parsed.raw_size > 20 * 1024 * 1024


def test_attachments_past_the_total_limit_are_skipped_in_order():
    mail = corpus.message()
    for name in ("a.bin", "b.bin", "c.bin"):
        mail.add_attachment(b"y" * 600, maintype="application", subtype="octet-stream", filename=name)

    parsed = parse_message(mail.as_bytes(), max_attachment_bytes=1000, max_total_bytes=1300)

    assert [a.filename for a in parsed.attachments] == ["a.bin", "b.bin"]
    assert [(s.filename, "in all" in s.reason) for s in parsed.skipped_attachments] == [("c.bin", True)]


def test_every_reference_is_kept_in_order_and_thread_ids_add_in_reply_to():
    raw = corpus.gmail_reply(
        in_reply_to="<sent-2@switchboard.acme.test> (Acme's message of Monday)",
        references="<root@mail.gmail.com>  <sent-1@switchboard.acme.test> <cc-reply@other.example>",
    )

    parsed = parse_message(raw)

    assert parsed.in_reply_to == "sent-2@switchboard.acme.test"
    assert parsed.references == ("root@mail.gmail.com", "sent-1@switchboard.acme.test", "cc-reply@other.example")
    assert parsed.thread_ids[-1] == "sent-2@switchboard.acme.test" and len(parsed.thread_ids) == 4


def test_reply_carrying_only_references_still_has_thread_ids():
    parsed = parse_message(corpus.outlook_original_message_reply())

    assert parsed.in_reply_to is None
    assert "sent-2@switchboard.acme.test" in parsed.thread_ids
    assert "sent-1@switchboard.acme.test" in parsed.thread_ids


def test_subject_token_names_the_interaction():
    assert parse_message(corpus.gmail_reply()).subject_ticket_id == 42
    assert parse_message(corpus.alternative()).subject_ticket_id is None
    fwd = corpus.message(subject="Fwd: Re: Old [#7] and new [#42]").as_bytes()
    assert parse_message(fwd).subject_ticket_id == 42


def test_recipients_and_reply_to_are_lower_cased_addresses_with_commas_in_names_kept_apart():
    mail = corpus.message(
        to='"Support, Acme" <Support@Acme.test>, =?utf-8?q?B=C3=A9la=2C_K?= <bela@example.com>',
        headers={"Cc": "Carol <carol@example.com>", "Reply-To": "Anna Private <Anna@Private.example>"},
    )

    parsed = parse_message(mail.as_bytes())

    assert parsed.to == ("support@acme.test", "bela@example.com")
    assert parsed.cc == ("carol@example.com",)
    assert parsed.reply_to == "anna@private.example"
    assert parsed.sender == corpus.CUSTOMER  # Reply-To is a hint, never the sender


def test_format_flowed_lines_are_joined():
    raw = (
        b"From: a@example.com\r\nSubject: x\r\nContent-Type: text/plain; charset=utf-8; format=flowed\r\n\r\n"
        b"This is one long \r\nparagraph written \r\nby Thunderbird.\r\n\r\nNew paragraph.\r\n"
    )

    assert parse_message(raw).text == "This is one long paragraph written by Thunderbird.\n\nNew paragraph."


def test_date_without_zone_is_utc_and_a_broken_date_is_none():
    naive = corpus.message(headers={}).as_bytes().replace(b"+0000", b"-0000")
    broken = b"From: a@example.com\r\nDate: the day after tomorrow\r\n\r\nx"

    assert parse_message(naive).date.tzinfo is not None
    assert parse_message(broken).date is None
