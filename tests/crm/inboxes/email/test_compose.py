"""Composing a reply: the headers a customer's mail client threads by, and the token that brings answers back."""

import pytest

from crm.inboxes.adapters.base import OutboundAttachment
from crm.inboxes.adapters.email.compose import (
    MAX_REFERENCES,
    compose_reply,
    message_id_of,
    new_message_id,
    reply_subject,
    ticket_id_from_subject,
)
from crm.inboxes.adapters.email.parse import parse_message


def _reply(**overrides):
    options = {
        "from_address": "support@acme.test",
        "from_name": "Acme Support",
        "to": ["anna.kovacs@example.com"],
        "subject": "Printer is broken",
        "body": "Please restart the printer.",
        "interaction_id": 42,
        "thread_ids": ["CAF=abc123@mail.gmail.com"],
        "message_id_domain": "switchboard.acme.test",
    }
    return compose_reply(**(options | overrides))


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Printer is broken", "Re: Printer is broken [#42]"),
        ("Re: Printer is broken [#42]", "Re: Printer is broken [#42]"),
        ("RE: Re: AW: Printer is broken", "Re: Printer is broken [#42]"),
        ("Fwd: Re[2]: Printer [#7] is broken [#42]", "Re: Printer is broken [#42]"),
        ("", "Re: [#42]"),
        ("  Many\n  spaces\r\n folded ", "Re: Many spaces folded [#42]"),
    ],
)
def test_reply_subject_has_one_re_and_one_token(subject, expected):
    assert reply_subject(subject, 42) == expected


def test_token_is_extracted_from_a_subject():
    assert ticket_id_from_subject("Re: Printer is broken [#42]") == 42
    assert ticket_id_from_subject("Printer [#7] again [#42]") == 42
    assert ticket_id_from_subject("Printer #42 [42] [# 42]") is None


def test_reply_carries_from_to_subject_and_our_own_message_id():
    message = _reply().message()

    assert message["From"] == "Acme Support <support@acme.test>"
    assert message["To"] == "anna.kovacs@example.com"
    assert message["Subject"] == "Re: Printer is broken [#42]"
    assert message["Message-ID"].endswith("@switchboard.acme.test>")
    assert message["Auto-Submitted"] is None


def test_message_id_is_new_for_every_reply_and_known_to_the_caller():
    first, second = _reply(), _reply()

    assert message_id_of(first) != message_id_of(second)
    assert first.message()["Message-ID"] == f"<{message_id_of(first)}>"


def test_threading_headers_name_the_answered_message_last():
    message = _reply(thread_ids=["root@mail.gmail.com", "<sent-1@switchboard.acme.test>", "reply-2@mail.gmail.com"])

    headers = message.message()
    assert headers["In-Reply-To"] == "<reply-2@mail.gmail.com>"
    assert headers["References"] == "<root@mail.gmail.com> <sent-1@switchboard.acme.test> <reply-2@mail.gmail.com>"


def test_long_threads_keep_the_root_and_the_latest_references():
    ids = [f"m{n}@example.com" for n in range(60)]

    references = _reply(thread_ids=ids).message()["References"].split()

    assert len(references) == MAX_REFERENCES
    assert references[0] == "<m0@example.com>" and references[-1] == "<m59@example.com>"
    assert references[1] == f"<m{60 - MAX_REFERENCES + 1}@example.com>"


def test_a_new_conversation_has_no_threading_headers():
    message = _reply(thread_ids=[]).message()

    assert message["In-Reply-To"] is None and message["References"] is None


def test_automatic_mail_says_so():
    message = _reply(automatic=True).message()

    assert message["Auto-Submitted"] == "auto-replied"
    assert message["X-Auto-Response-Suppress"] == "All"


def test_text_html_and_attachments_are_all_there():
    reply = _reply(
        html="<p>Please <b>restart</b> the printer.</p>",
        attachments=[OutboundAttachment("manual €.pdf", "application/pdf", b"%PDF-1.4 manual")],
        cc=["boss@example.com"],
    )

    parsed = parse_message(reply.message().as_bytes())

    assert parsed.text == "Please restart the printer."
    assert "<b>restart</b>" in parsed.html
    assert [(a.filename, a.content_type, a.data) for a in parsed.attachments] == [
        ("manual €.pdf", "application/pdf", b"%PDF-1.4 manual")
    ]
    assert parsed.cc == ("boss@example.com",)


def test_a_non_ascii_display_name_survives_the_round_trip():
    parsed = parse_message(_reply(from_name="Ügyfélszolgálat Kft.").message().as_bytes())

    assert parsed.sender_name == "Ügyfélszolgálat Kft." and parsed.sender == "support@acme.test"


def test_our_reply_coming_back_is_recognised_as_our_own():
    reply = _reply()

    parsed = parse_message(reply.message().as_bytes(), own_domain="switchboard.acme.test")

    assert parsed.is_own and parsed.message_id == message_id_of(reply)
    assert parsed.subject_ticket_id == 42


def test_a_retried_delivery_sends_under_the_message_id_stored_before_the_first_attempt():
    stored = new_message_id("switchboard.acme.test")

    first, retry = _reply(message_id=stored), _reply(message_id=f"<{stored}>")

    assert message_id_of(first) == message_id_of(retry) == stored
    assert first.message()["Message-ID"] == f"<{stored}>" and stored.endswith("@switchboard.acme.test")
