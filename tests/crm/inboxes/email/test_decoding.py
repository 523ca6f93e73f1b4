"""``adapters.email.decoding``: ``Headers`` reads a message's headers once and answers as ``header`` does — the
first value decoded, names in any case — and keeps every value of a repeated header, in order."""

from email.parser import BytesHeaderParser

from crm.inboxes.adapters.email.decoding import Headers, header
from crm.inboxes.adapters.email.parse import POLICY

RAW = (
    b"From: =?utf-8?q?J=C3=BCrgen?= <j@example.org>\r\n"
    b"To: support@example.com\r\n"
    b"Cc: one@example.org\r\n"
    b"CC: two@example.org\r\n"
    b"Subject: =?iso-8859-1?q?Gr=FC=DFe?=\r\n"
    b"X-Loop: yes\r\n"
    b"\r\n"
    b"body\r\n"
)


def test_headers_answer_as_header_does_and_keep_repeated_values_in_order():
    message = BytesHeaderParser(policy=POLICY).parsebytes(RAW)
    headers = Headers(message)

    for name in ("From", "subject", "TO", "Cc", "Message-ID"):
        assert headers.first(name) == header(message, name)
    assert headers.first("Subject") == "Grüße" and headers.first("Message-ID") == ""
    assert headers.raw("cc") == ["one@example.org", "two@example.org"]
    assert "x-loop" in headers and "X-Autoreply" not in headers
    assert headers and not Headers(object())  # a non-message has none, as ``header`` answers "" for it
