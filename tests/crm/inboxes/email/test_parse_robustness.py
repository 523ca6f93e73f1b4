"""Broken and hostile mail: one exception type for the unreadable, everything kept for the merely damaged."""

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.inboxes.adapters.base import MalformedMessage
from crm.inboxes.adapters.email.parse import parse_message
from tests.crm.inboxes.email import corpus


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty message"),
        (b"   \r\n\r\n", "empty message"),
        (b"\x00\x01\x02 binary junk \xff\xfe with no header line", "no header found"),
        (b"Subject: who wrote this?\r\n\r\nnobody", "no sender address"),
    ],
)
def test_unreadable_input_raises_malformed_message_with_a_reason(raw, reason):
    with pytest.raises(MalformedMessage) as caught:
        parse_message(raw)

    assert reason in caught.value.reason


def test_leading_blank_lines_and_an_mbox_from_line_are_tolerated():
    raw = corpus.alternative()

    assert parse_message(b"\r\n\r\n" + raw).subject == "Printer is broken"
    assert parse_message(b"From MAILER-DAEMON Mon Jun  3 10:15:00 2024\n" + raw).sender == corpus.CUSTOMER


def test_non_bytes_input_is_malformed_too():
    with pytest.raises(MalformedMessage):
        parse_message("From: a@example.com\r\n\r\ntext")  # type: ignore[arg-type]


def test_ten_thousand_levels_of_mime_nesting_is_malformed_not_a_crash():
    depth = 10_000
    parts = [b"From: a@example.com\r\nSubject: deep\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n"]
    parts += [b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i, i + 1) for i in range(depth)]
    parts.append(b"--b%d\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b%d--\r\n" % (depth, depth))
    parts += [b"--b%d--\r\n" % i for i in reversed(range(depth))]

    with pytest.raises(MalformedMessage) as caught:
        parse_message(b"".join(parts))

    assert "nested" in caught.value.reason


def test_ten_thousand_deep_html_is_sanitised_and_read_quickly():
    html = "<div>" * 10_000 + "deep <script>x()</script>text" + "</div>" * 10_000
    mail = corpus.message(body="")
    mail.set_content(html, subtype="html")
    started = time.monotonic()

    parsed = parse_message(mail.as_bytes())

    assert parsed.text == "deep text"
    assert "script" not in parsed.html and "deep" in parsed.html
    assert time.monotonic() - started < 10


def test_missing_closing_boundary_keeps_the_text_and_records_the_defect():
    raw = (
        b"From: a@example.com\r\nSubject: cut\r\nContent-Type: multipart/mixed; boundary=ZZ\r\n\r\n"
        b"--ZZ\r\nContent-Type: text/plain\r\n\r\nThe text survives.\r\n"
        b"--ZZ\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0x"
    )

    parsed = parse_message(raw)

    assert parsed.text == "The text survives."
    assert [a.filename for a in parsed.attachments] == ["a.pdf"]
    assert "CloseBoundaryNotFoundDefect" in parsed.defects


def test_damaged_base64_keeps_what_decodes():
    raw = (
        b"From: a@example.com\r\nSubject: b64\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nSGVsbG8gd29ybGQ*!\r\n"
    )

    parsed = parse_message(raw)

    assert parsed.text.startswith("Hello world")
    assert parsed.defects


def test_multipart_without_boundary_is_kept_as_text():
    raw = b"From: a@example.com\r\nSubject: x\r\nContent-Type: multipart/mixed\r\n\r\nplain words after all\r\n"

    parsed = parse_message(raw)

    assert "plain words after all" in parsed.text + "".join(a.data.decode() for a in parsed.attachments)


def test_unknown_transfer_encoding_and_garbage_headers_do_not_stop_the_parse():
    raw = (
        b'From: a@example.com\r\nTo: "unclosed <x@\r\nDate: 99 Foo 2024 99:99:99\r\nMessage-ID: not an id\r\n'
        b'References: garbage only\r\nContent-Type: text/plain; charset="utf-8\r\nContent-Transfer-Encoding: x-uue\r\n'
        b"\r\nbody text\r\n"
    )

    parsed = parse_message(raw)

    assert "body text" in parsed.text
    assert parsed.date is None and parsed.references == ()
    assert parsed.message_id_synthetic  # "not an id" is not a Message-ID


_SEED = corpus.alternative()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_any_bytes_parse_or_raise_malformed_message_only(data):
    try:
        parsed = parse_message(data)
    except MalformedMessage:
        return
    assert isinstance(parsed.text, str)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, len(_SEED)), st.binary(max_size=40))
def test_a_real_mail_cut_or_spliced_anywhere_parses_or_raises_malformed_message_only(position, splice):
    try:
        parsed = parse_message(_SEED[:position] + splice + _SEED[position + len(splice) :])
    except MalformedMessage:
        return
    assert parsed.text is not None


def test_parts_nested_past_the_depth_limit_are_kept_as_an_attachment():
    depth = 70
    parts = [b"From: a@example.com\r\nSubject: deep\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n"]
    parts += [b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i, i + 1) for i in range(depth)]
    parts.append(b"--b%d\r\nContent-Type: text/plain\r\n\r\nthe innermost words\r\n--b%d--\r\n" % (depth, depth))
    parts += [b"--b%d--\r\n" % i for i in reversed(range(depth))]

    parsed = parse_message(b"".join(parts))

    (kept,) = parsed.attachments
    assert b"the innermost words" in kept.data
    assert any("nested deeper" in defect for defect in parsed.defects)
