"""Real-world mail shapes, built in code: what Gmail, Outlook, Apple Mail, MTAs and auto-responders send.

Well-formed ones are built with ``email.message.EmailMessage``; broken ones (wrong or missing charsets, damaged
MIME) are written as raw bytes, as they arrive.
"""

import base64
import datetime
import quopri
import unicodedata
from email.message import EmailMessage
from email.utils import format_datetime

SUPPORT = "support@acme.test"
CUSTOMER = "anna.kovacs@example.com"
DATE = datetime.datetime(2024, 6, 3, 10, 15, tzinfo=datetime.UTC)


def message(
    *,
    subject="Printer is broken",
    body="Hello,\n\nmy printer does not print.\n\nAnna",
    sender=f"Anna Kovacs <{CUSTOMER}>",
    to=SUPPORT,
    message_id="<CAF=abc123@mail.gmail.com>",
    headers=None,
) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = format_datetime(DATE)
    if message_id:
        mail["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        mail[name] = value
    mail.set_content(body)
    return mail


def conversation(thread: int, step: int, *, prefix: str = "t") -> bytes:
    """Mail ``step`` of conversation ``thread`` (one customer each): each one answers the one before (step 0
    opens it, subject "Case <thread>"; its body "thread <thread> step <step>")."""
    headers = {}
    if step:
        parent = f"<{prefix}{thread}-{step - 1}@example.com>"
        headers = {"In-Reply-To": parent, "References": parent}
    return message(
        sender=f"Customer {thread} <c{thread}@example.com>",
        subject=f"Case {thread}" if not step else f"Re: Case {thread}",
        body=f"thread {thread} step {step}",
        message_id=f"<{prefix}{thread}-{step}@example.com>",
        headers=headers,
    ).as_bytes()


def alternative() -> bytes:
    """Gmail: multipart/alternative, text and HTML saying the same thing."""
    mail = message(body="Hello,\n\nthe invoice is wrong.\n")
    mail.add_alternative(
        "<div dir=ltr>Hello,<br><br>the <b>invoice</b> is wrong.<br></div>"
        "<table><tr><td>Item</td><td>42 EUR</td></tr></table>",
        subtype="html",
    )
    return mail.as_bytes()


def html_only() -> bytes:
    """A web form mailer: one text/html part, scripts and handlers included."""
    mail = message(body="")
    mail.set_content(
        "<html><head><style>p{color:red}</style><script>steal()</script></head>"
        '<body onload="steal()"><p>Order <b>#1234</b> never arrived.</p>'
        '<p>Please call me back<br>at +36 1 234 5678.</p><img src="x" onerror="alert(1)">'
        '<a href="javascript:alert(1)">click</a></body></html>',
        subtype="html",
    )
    return mail.as_bytes()


def gmail_reply(*, in_reply_to="<sent-1@switchboard.acme.test>", references=None) -> bytes:
    """A reply with Gmail's two-line attribution and the history quoted with ">"."""
    headers = {"In-Reply-To": in_reply_to} if in_reply_to else {}
    if references:
        headers["References"] = references
    mail = message(
        subject="Re: Printer is broken [#42]",
        body=(
            "Thanks, it works again!\n\n"
            "On Mon, Jun 3, 2024 at 10:00 AM Acme Support <\nsupport@acme.test> wrote:\n\n"
            "> Please restart the printer.\n>\n> Acme Support\n"
        ),
        message_id="<CAF=reply2@mail.gmail.com>",
        headers=headers,
    )
    return mail.as_bytes()


def outlook_reply() -> bytes:
    """Outlook: Thread-Index instead of a tidy thread, an underscore line and a From/Sent/To/Subject block."""
    mail = message(
        subject="RE: Printer is broken [#42]",
        sender=f"Kovacs, Anna <{CUSTOMER}>",
        body=(
            "Still broken, see the photo.\r\n\r\n"
            "________________________________\r\n"
            "From: Acme Support <support@acme.test>\r\n"
            "Sent: Monday, June 3, 2024 10:00 AM\r\n"
            "To: Kovacs, Anna <anna.kovacs@example.com>\r\n"
            "Subject: Re: Printer is broken [#42]\r\n\r\n"
            "Please restart the printer.\r\n"
        ),
        message_id="<AM0PR07MB1234ABCD@AM0PR07MB1234.eurprd07.prod.outlook.com>",
        headers={
            "Thread-Topic": "Printer is broken [#42]",
            "Thread-Index": "AQHasjqWmX0rA1bFvUe6sA3lbTQ7Ww==",
            "In-Reply-To": "<sent-1@switchboard.acme.test>",
            "References": "<CAF=abc123@mail.gmail.com> <sent-1@switchboard.acme.test>",
        },
    )
    return mail.as_bytes()


def outlook_original_message_reply() -> bytes:
    """Older Outlook: "-----Original Message-----" and no In-Reply-To at all, only References."""
    return message(
        subject="AW: Printer is broken",
        body="Danke!\n\n-----Original Message-----\nFrom: Acme Support\nSent: Monday\n\nPlease restart it.\n",
        message_id="<0001@EXCH01.example.com>",
        headers={
            "References": "<CAF=abc123@mail.gmail.com> <sent-1@switchboard.acme.test> <sent-2@switchboard.acme.test>"
        },
    ).as_bytes()


def windows_1258() -> tuple[bytes, str, str]:
    """Vietnamese Outlook: windows-1258 (letters as base + combining tone marks), quoted-printable body, the
    subject in an encoded word. Answers the raw bytes, the body text and the subject."""
    text, subject = "Xin chào, máy in không hoạt động.", "Máy in hỏng"

    def encode(value: str) -> bytes:
        # As Windows writes it: a letter the code page has (ô), then the tone marks it lacks as combining characters.
        out = b""
        for char in value:
            base, *marks = unicodedata.normalize("NFD", char)
            left = []
            for mark in marks:
                combined = unicodedata.normalize("NFC", base + mark)
                try:
                    combined.encode("windows-1258")
                    base = combined
                except UnicodeEncodeError:
                    left.append(mark)
            out += (base + "".join(left)).encode("windows-1258")
        return out

    encoded_subject = quopri.encodestring(encode(subject), header=True)
    return (
        (
            b"From: Nguyen Van A <nguyen@example.vn>\r\nTo: support@acme.test\r\n"
            b"Subject: =?windows-1258?Q?" + encoded_subject + b"?=\r\n"
            b"Message-ID: <vn1@example.vn>\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: text/plain; charset=windows-1258\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
            + quopri.encodestring(encode(text))
            + b"\r\n"
        ),
        text,
        subject,
    )


def latin1_undeclared() -> tuple[bytes, str]:
    """An old mailer: 8-bit latin-1 in headers and body, no charset declared anywhere."""
    text = "Grüße aus Köln, die Lieferung ist beschädigt."
    raw = (
        "From: Jürgen Müller <jm@example.de>\r\nTo: support@acme.test\r\nSubject: Beschädigte Lieferung\r\n"
        "Message-ID: <latin1@example.de>\r\n\r\n" + text + "\r\n"
    ).encode("latin-1")
    return raw, text


def utf16() -> tuple[bytes, str]:
    """UTF-16 text (with a byte-order mark), base64-encoded."""
    text = "Bonjour, l'écran reste noir. ☹"
    payload = base64.encodebytes(text.encode("utf-16"))
    raw = (
        b"From: claire@example.fr\r\nTo: support@acme.test\r\nSubject: Ecran\r\nMessage-ID: <u16@example.fr>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-16\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + payload
    )
    return raw, text


def rfc2231_filename() -> bytes:
    """A filename in RFC 2231 continuations with a charset (Thunderbird), and one RFC 2047-encoded (Outlook)."""
    return (
        b"From: anna.kovacs@example.com\r\nTo: support@acme.test\r\nSubject: Files\r\nMessage-ID: <f@example.com>\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="XX"\r\n\r\n'
        b"--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee attached.\r\n"
        b"--XX\r\nContent-Type: application/pdf\r\n"
        b"Content-Disposition: attachment;\r\n filename*0*=utf-8''Rechnung%20M%C3%BCller%20;\r\n"
        b" filename*1*=%E2%82%AC%20Juni.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n"
        b'--XX\r\nContent-Type: text/plain; name="=?utf-8?B?w6lsw6htZW50cy50eHQ=?="\r\n'
        b'Content-Disposition: attachment; filename="=?utf-8?B?w6lsw6htZW50cy50eHQ=?="\r\n\r\nnotes\r\n'
        b"--XX--\r\n"
    )


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def inline_image() -> bytes:
    """Apple Mail: multipart/alternative whose HTML is multipart/related with an inline image by Content-ID."""
    mail = message(body="See the error:\n\n[image]\n")
    mail.add_alternative('<p>See the error:</p><img src="cid:err-1@apple.example" alt="error">', subtype="html")
    html_part = mail.get_payload()[1]
    html_part.add_related(
        PNG, maintype="image", subtype="png", cid="<err-1@apple.example>", filename="error.png", disposition="inline"
    )
    return mail.as_bytes()


def forwarded() -> bytes:
    """Thunderbird "forward as attachment": the original is a message/rfc822 part with its own attachment."""
    original = message(
        subject="Your order 1234",
        sender="Shop <orders@shop.example>",
        to=CUSTOMER,
        body="Your order 1234 was shipped.",
        message_id="<order-1234@shop.example>",
    )
    original.add_attachment(b"%PDF-1.4 receipt", maintype="application", subtype="pdf", filename="receipt.pdf")
    mail = message(subject="Fwd: Your order 1234", body="This never arrived, see below.")
    mail.add_attachment(original)
    return mail.as_bytes()


def auto_reply(header: str, value: str) -> bytes:
    return message(
        subject="Automatic reply: Printer is broken [#42]",
        body="I am out of office until Monday.",
        headers={header: value},
        message_id="<ooo-1@example.com>",
    ).as_bytes()


def dsn_bounce(*, status="5.1.1", action="failed", original_id="<sent-7@switchboard.acme.test>") -> bytes:
    """Postfix's RFC 3464 report for a reply we sent to a mistyped address."""
    return (
        b"Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.acme.test (Mail Delivery System)\r\n"
        b"To: support@acme.test\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        b"Message-ID: <20240603101500.ABC@mx.acme.test>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="R"\r\n\r\n'
        b"--R\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        b"I'm sorry to have to inform you that your message could not be delivered.\r\n"
        b"<anna.kovacs@exmaple.com>: host mx.exmaple.com said: 550 5.1.1 User unknown\r\n"
        b"--R\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.acme.test\r\nArrival-Date: Mon, 3 Jun 2024 10:15:00 +0000\r\n\r\n"
        b"Final-Recipient: rfc822; anna.kovacs@exmaple.com\r\nOriginal-Recipient: rfc822;anna.kovacs@exmaple.com\r\n"
        b"Action: " + action.encode() + b"\r\nStatus: " + status.encode() + b"\r\n"
        b"Remote-MTA: dns; mx.exmaple.com\r\nDiagnostic-Code: smtp; 550 " + status.encode() + b" User unknown\r\n"
        b"--R\r\nContent-Type: message/rfc822\r\n\r\n"
        b"From: Acme Support <support@acme.test>\r\nTo: anna.kovacs@exmaple.com\r\n"
        b"Subject: Re: Printer is broken [#42]\r\nMessage-ID: " + original_id.encode() + b"\r\n\r\n"
        b"Please restart the printer.\r\n--R--\r\n"
    )


def headers_only_bounce() -> bytes:
    """Exim with text/rfc822-headers: only the original's headers come back."""
    return (
        b"From: Mail Delivery System <Mailer-Daemon@mx.example.org>\r\nTo: support@acme.test\r\n"
        b"Subject: Mail delivery failed: returning message to sender\r\nMessage-ID: <exim-1@mx.example.org>\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nMailbox full.\r\n"
        b"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n"
        b"Final-Recipient: rfc822;bob@example.org\r\nAction: delayed\r\nStatus: 4.2.2\r\n"
        b"--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        b"Message-ID: <sent-9@switchboard.acme.test>\r\nSubject: Re: Hello [#7]\r\n--B--\r\n"
    )


def qmail_bounce() -> bytes:
    """qmail: no report at all, just a text from MAILER-DAEMON quoting the original."""
    return message(
        sender="MAILER-DAEMON@mail.example.net",
        subject="failure notice",
        body=(
            "Hi. This is the qmail-send program at mail.example.net.\n"
            "<x@example.net>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n"
            "--- Below this line is a copy of the message.\n\n"
            "Message-ID: <sent-11@switchboard.acme.test>\nSubject: Re: Hi [#9]\n"
        ),
        message_id="<qmail-1@mail.example.net>",
    ).as_bytes()
