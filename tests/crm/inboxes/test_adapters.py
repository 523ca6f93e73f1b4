"""The adapter interface: the registry, an e-mail inbox's settings, and one conversation through the adapter."""

import pytest

from crm.inboxes.adapters import (
    Adapter,
    InvalidSettings,
    OutboundMessage,
    PermanentFailure,
    adapter_for,
    register_adapter,
    registered_channels,
)
from crm.inboxes.adapters import base as adapters_base
from crm.inboxes.adapters.email import EmailAdapter
from crm.inboxes.adapters.email.urls import parse_mail_url, redact_mail_url
from tests.crm.inboxes.email import corpus


class EchoAdapter:
    """What a new channel needs to be found: a class with the interface, registered under its channel."""

    channel = "echo"

    def __init__(self, *, settings):
        self.settings = settings

    @classmethod
    def validate_settings(cls, settings):
        return dict(settings)

    @classmethod
    def redact_settings(cls, settings):
        return dict(settings)

    def parse_inbound(self, payload):
        raise NotImplementedError

    def send(self, message):
        raise NotImplementedError


@pytest.fixture
def registry():
    saved = dict(adapters_base._REGISTRY)
    yield
    adapters_base._REGISTRY.clear()
    adapters_base._REGISTRY.update(saved)


def test_email_is_registered_and_implements_the_interface():
    adapter = adapter_for("email")

    assert adapter is EmailAdapter and "email" in registered_channels()
    assert isinstance(adapter(settings={"address": "support@acme.test"}), Adapter)


def test_registering_another_channel_takes_one_line(registry):
    register_adapter("echo", "tests.crm.inboxes.test_adapters.EchoAdapter")

    assert adapter_for("echo") is EchoAdapter
    assert registered_channels() == ["bridge", "chat", "echo", "email", "sms", "voice", "whatsapp"]


def test_a_channel_without_adapter_is_a_lookup_error():
    with pytest.raises(LookupError, match="No adapter for channel 'fax'"):
        adapter_for("fax")


def test_the_email_import_is_immediate_or_queued():
    base = {"address": "support@acme.test"}
    assert EmailAdapter.validate_settings({**base, "import": "queued"})["import"] == "queued"
    assert EmailAdapter.validate_settings({**base, "import": "immediate"})["import"] == "immediate"
    assert "import" not in EmailAdapter.validate_settings(base)  # absent: immediate, as before the setting
    for wrong in ("later", "", None, ["queued"]):
        with pytest.raises(adapters_base.InvalidSettings) as refused:
            EmailAdapter.validate_settings({**base, "import": wrong})
        assert refused.value.errors == {"import": "immediate or queued"}


def test_email_settings_are_cleaned_and_defaulted():
    settings = EmailAdapter.validate_settings(
        {"address": " Support@ACME.test ", "display_name": "  Acme   Support ", "smtp_url": "smtp://h:25"}
    )

    assert settings == {
        "address": "support@acme.test",
        "display_name": "Acme Support",
        "imap_url": "",
        "smtp_url": "smtp://h:25",
        "message_id_domain": "switchboard.acme.test",
        "max_attachment_bytes": 10 * 1024 * 1024,
        "max_total_bytes": 25 * 1024 * 1024,
    }


def test_every_bad_email_setting_is_named():
    with pytest.raises(InvalidSettings) as caught:
        EmailAdapter.validate_settings(
            {
                "address": "not-an-address",
                "imap_url": "imaps://mail.example.com/INBOX",
                "smtp_url": "http://mail.example.com",
                "message_id_domain": "bad domain!",
                "max_total_bytes": -1,
                "colour": "blue",
            }
        )

    assert set(caught.value.errors) == {
        "address",
        "imap_url",
        "smtp_url",
        "message_id_domain",
        "max_total_bytes",
        "colour",
    }
    assert "names no user" in caught.value.errors["imap_url"]


def test_secrets_are_masked_for_display():
    shown = EmailAdapter.redact_settings(
        {"address": "support@acme.test", "imap_url": "imaps://support%40acme.test:p%40ss@mail.acme.test/INBOX"}
    )

    assert shown == {"address": "support@acme.test", "imap_url": "imaps://support%40acme.test:***@mail.acme.test/INBOX"}


def test_mail_urls_are_read_with_their_defaults():
    imap = parse_mail_url("imaps://support%40acme.test:p%40ss%3Aw@mail.acme.test/Support%20Queue", protocol="imap")
    smtp = parse_mail_url("smtp://mail.acme.test?starttls=1", protocol="smtp")

    assert (imap.host, imap.port, imap.username, imap.password, imap.folder, imap.implicit_tls) == (
        "mail.acme.test",
        993,
        "support@acme.test",
        "p@ss:w",
        "Support Queue",
        True,
    )
    assert (smtp.port, smtp.starttls, smtp.implicit_tls, smtp.username) == (25, True, False, "")
    assert parse_mail_url("imap://u:p@h", protocol="imap").folder == "INBOX"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("imaps://u:p@h?starttls=1", "already encrypted"),
        ("imap://u:p@h?tls=1", "unknown option"),
        ("imap://u:secret@h:99999", "not a valid"),
        ("pop3://u:p@h", "must start with"),
    ],
)
def test_bad_mail_urls_say_why_without_the_password(url, problem):
    with pytest.raises(PermanentFailure) as caught:
        parse_mail_url(url, protocol="imap")

    assert problem in caught.value.reason and "secret" not in caught.value.reason


def test_redacting_a_url_without_password_changes_nothing():
    assert redact_mail_url("smtp://mail.acme.test:25") == "smtp://mail.acme.test:25"


def test_a_reply_goes_out_through_the_adapter_and_the_answer_threads_back(smtp_sink):
    adapter = adapter_for("email")(
        settings={"address": "support@acme.test", "display_name": "Acme Support", "smtp_url": smtp_sink.url()}
    )
    inbound = adapter.parse_inbound(corpus.alternative())

    result = adapter.send(
        OutboundMessage(
            to=(inbound.sender,),
            subject=inbound.subject,
            body="Which printer model is it?",
            interaction_id=42,
            thread_ids=inbound.thread_ids + (inbound.message_id,),
        )
    )

    (received,) = smtp_sink.received
    sent = adapter.parse_inbound(received.data)
    assert sent.is_own and sent.message_id == result.provider_id  # our mail, if it ever comes back, is noise
    assert sent.subject == "Re: Printer is broken [#42]" and sent.in_reply_to == inbound.message_id
    assert received.message["From"] == "Acme Support <support@acme.test>"

    answer = corpus.gmail_reply(in_reply_to=f"<{result.provider_id}>", references=f"<{inbound.message_id}>")
    parsed_answer = adapter.parse_inbound(answer)
    assert result.provider_id in parsed_answer.thread_ids and inbound.message_id in parsed_answer.thread_ids
    assert not parsed_answer.is_noise and parsed_answer.subject_ticket_id == 42


def test_the_adapter_sends_under_a_message_id_chosen_in_advance(smtp_sink):
    adapter = EmailAdapter(settings={"address": "support@acme.test", "smtp_url": smtp_sink.url()})
    chosen = adapter.new_message_id()

    result = adapter.send(OutboundMessage(to=("a@example.com",), subject="Hi", body="Hello", message_id=chosen))

    assert result.provider_id == chosen and chosen.endswith("@switchboard.acme.test")
    assert smtp_sink.received[0].message["Message-ID"] == f"<{chosen}>"


def test_automatic_mail_through_the_adapter_is_marked(mailoutbox):
    adapter = EmailAdapter(settings={"address": "support@acme.test"})

    adapter.send(OutboundMessage(to=("a@example.com",), subject="Hello", body="We got your mail.", automatic=True))

    assert mailoutbox[0].extra_headers["Auto-Submitted"] == "auto-replied"
    assert mailoutbox[0].from_email == "support@acme.test"
