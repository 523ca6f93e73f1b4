"""Sending through a real SMTP server (aiosmtpd on loopback): what arrives, and how refusals are reported."""

import pytest

from crm.inboxes.adapters.base import AuthenticationFailed, OutboundAttachment, PermanentFailure, TemporaryFailure
from crm.inboxes.adapters.email.compose import compose_reply, message_id_of
from crm.inboxes.adapters.email.parse import parse_message
from crm.inboxes.adapters.email.smtp import send_message
from tests.support.ports import free_port

CUSTOMER = "anna.kovacs@example.com"


def _reply(**overrides):
    options = {
        "from_address": "support@acme.test",
        "from_name": "Acme Support",
        "to": [CUSTOMER],
        "subject": "Printer is broken",
        "body": "Please restart the printer.",
        "interaction_id": 42,
        "thread_ids": ["CAF=abc123@mail.gmail.com"],
        "message_id_domain": "switchboard.acme.test",
    }
    return compose_reply(**(options | overrides))


def test_reply_arrives_with_its_headers_and_the_message_id_is_the_provider_id(smtp_sink):
    reply = _reply(html="<p>Please restart</p>")

    result = send_message(reply, smtp_url=smtp_sink.url())

    (received,) = smtp_sink.received
    assert received.mail_from == "support@acme.test" and received.rcpt_tos == [CUSTOMER]
    message = received.message
    assert message["Subject"] == "Re: Printer is broken [#42]"
    assert message["From"] == "Acme Support <support@acme.test>"
    assert message["In-Reply-To"] == "<CAF=abc123@mail.gmail.com>"
    assert message["Message-ID"] == f"<{result.provider_id}>" and result.provider_id == message_id_of(reply)
    assert result.refused == {}
    assert message.get_body(("html",)).get_content().strip() == "<p>Please restart</p>"


def test_attachments_arrive_intact(smtp_sink):
    data = bytes(range(256)) * 400
    send_message(
        _reply(attachments=[OutboundAttachment("scan.bin", "application/octet-stream", data)]), smtp_url=smtp_sink.url()
    )

    parsed = parse_message(smtp_sink.received[0].data)
    assert [(a.filename, a.data) for a in parsed.attachments] == [("scan.bin", data)]


def test_a_451_is_a_temporary_failure_naming_the_recipient(smtp_sink):
    smtp_sink.temporary.add(CUSTOMER)

    with pytest.raises(TemporaryFailure) as caught:
        send_message(_reply(), smtp_url=smtp_sink.url())

    assert (caught.value.recipient, caught.value.code) == (CUSTOMER, "4.2.1")
    assert "451" in caught.value.reason
    assert smtp_sink.received == []


def test_a_550_is_a_permanent_failure_naming_the_recipient_and_status(smtp_sink):
    smtp_sink.permanent.add(CUSTOMER)

    with pytest.raises(PermanentFailure) as caught:
        send_message(_reply(), smtp_url=smtp_sink.url())

    assert not isinstance(caught.value, AuthenticationFailed)
    assert (caught.value.recipient, caught.value.code) == (CUSTOMER, "5.1.1")
    assert "User unknown" in caught.value.reason


def test_one_refused_recipient_among_accepted_ones_is_reported_not_retried(smtp_sink):
    smtp_sink.permanent.add("gone@example.com")

    result = send_message(_reply(cc=["gone@example.com"]), smtp_url=smtp_sink.url())

    assert smtp_sink.received[0].rcpt_tos == [CUSTOMER]
    assert list(result.refused) == ["gone@example.com"] and "550" in result.refused["gone@example.com"]


@pytest.mark.parametrize(
    ("reply", "failure", "code"),
    [
        ("554 5.7.1 Message rejected as spam", PermanentFailure, "5.7.1"),
        ("452 4.3.1 Insufficient storage", TemporaryFailure, "4.3.1"),
    ],
)
def test_a_refused_message_body_is_mapped_by_its_code(smtp_sink, reply, failure, code):
    smtp_sink.data_reply = reply

    with pytest.raises(failure) as caught:
        send_message(_reply(), smtp_url=smtp_sink.url())

    assert caught.value.code == code and "message refused" in caught.value.reason


def test_an_unreachable_server_is_a_temporary_failure():
    with pytest.raises(TemporaryFailure) as caught:
        send_message(_reply(), smtp_url=f"smtp://127.0.0.1:{free_port()}", timeout=3)

    assert "cannot reach" in caught.value.reason


# AUTH without TLS is what these loopback tests want; aiosmtpd warns about it.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_login_with_the_inbox_credentials(smtp_sink_factory):
    sink = smtp_sink_factory(credentials=("support@acme.test", "s3cret:/@"))

    send_message(_reply(), smtp_url=sink.url(user="support@acme.test", password="s3cret:/@"))

    assert len(sink.received) == 1


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_refused_credentials_are_an_authentication_failure(smtp_sink_factory):
    sink = smtp_sink_factory(credentials=("support@acme.test", "right"))

    with pytest.raises(AuthenticationFailed) as caught:
        send_message(_reply(), smtp_url=sink.url(user="support@acme.test", password="wrong"))

    assert caught.value.code == "535" or caught.value.code.startswith("5.7")
    assert "wrong" not in caught.value.reason
    assert sink.received == []


def test_starttls_to_a_trusted_certificate(smtp_sink_factory, certificate):
    if certificate is None:
        pytest.skip("openssl is needed to make a test certificate")
    sink = smtp_sink_factory(starttls_context=certificate.server_context())

    send_message(_reply(), smtp_url=sink.url(starttls=True), ssl_context=certificate.client_context())

    assert len(sink.received) == 1


def test_an_untrusted_certificate_is_refused_for_good(smtp_sink_factory, certificate):
    if certificate is None:
        pytest.skip("openssl is needed to make a test certificate")
    sink = smtp_sink_factory(starttls_context=certificate.server_context())

    with pytest.raises(PermanentFailure) as caught:
        send_message(_reply(), smtp_url=sink.url(starttls=True))  # the system's trust store: self-signed fails

    assert "certificate" in caught.value.reason
    assert sink.received == []


def test_implicit_tls_smtps(smtp_sink_factory, certificate):
    if certificate is None:
        pytest.skip("openssl is needed to make a test certificate")
    sink = smtp_sink_factory(implicit_tls_context=certificate.server_context())

    send_message(_reply(), smtp_url=sink.url(), ssl_context=certificate.client_context())

    assert sink.url().startswith("smtps://") and len(sink.received) == 1


def test_without_an_smtp_url_the_configured_mailer_sends(mailoutbox):
    reply = _reply()

    result = send_message(reply)

    assert len(mailoutbox) == 1 and mailoutbox[0].subject == "Re: Printer is broken [#42]"
    assert result.provider_id == message_id_of(reply)


def test_an_invalid_recipient_address_is_permanent(smtp_sink):
    with pytest.raises(PermanentFailure):
        send_message(_reply(to=["not an address <a@b@c>"]), smtp_url=smtp_sink.url())


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_xoauth2_token_sends_and_a_revoked_one_is_an_authentication_failure(smtp_sink_factory):
    sink = smtp_sink_factory(tokens={"ya29.valid": "support@acme.test"})
    url = sink.url(user="support@acme.test", password="unused")

    send_message(_reply(), smtp_url=url, access_token="ya29.valid")
    assert len(sink.received) == 1

    sink.tokens.clear()  # revoked
    with pytest.raises(AuthenticationFailed) as caught:
        send_message(_reply(), smtp_url=url, access_token="ya29.valid")

    assert caught.value.code.startswith("5.7") and "ya29" not in caught.value.reason
    assert len(sink.received) == 1


def test_an_access_token_without_an_smtp_url_is_a_configuration_error():
    with pytest.raises(PermanentFailure, match="smtp_url"):
        send_message(_reply(), access_token="ya29.valid")
