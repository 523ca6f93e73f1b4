"""Mail that is recorded but must never open work or be answered: auto-replies, bulk, loops, bounces, our own."""

import pytest

from crm.inboxes.adapters.email.parse import parse_message
from tests.crm.inboxes.email import corpus


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("Auto-Submitted", "auto-replied"),
        ("Auto-Submitted", "auto-generated; owner-email=it@example.com"),
        ("X-Autoreply", "yes"),
        ("X-Autorespond", "Out of office"),
        ("Precedence", "bulk"),
        ("Precedence", "list"),
        ("Precedence", "junk"),
        ("X-Auto-Response-Suppress", "All"),
        ("X-Loop", "helpdesk@example.com"),
        ("List-Id", "Customers <customers.lists.example.com>"),
        ("List-Unsubscribe", "<mailto:leave@lists.example.com>"),
    ],
)
def test_machine_written_mail_is_flagged_with_the_reason(header, value):
    parsed = parse_message(corpus.auto_reply(header, value))

    assert parsed.is_auto and parsed.is_noise
    assert parsed.auto_reason.startswith(header)
    assert not parsed.is_bounce


def test_auto_submitted_no_is_a_person_writing():
    parsed = parse_message(corpus.auto_reply("Auto-Submitted", "no"))

    assert not parsed.is_auto and not parsed.is_noise and parsed.auto_reason == ""


def test_precedence_first_class_is_not_bulk():
    assert not parse_message(corpus.auto_reply("Precedence", "first-class")).is_auto


def test_mailer_daemon_is_never_a_customer_even_without_a_report():
    parsed = parse_message(corpus.message(sender="MAILER-DAEMON@mx.example.org", subject="Warning").as_bytes())

    assert parsed.is_auto and parsed.auto_reason == "sent by mailer-daemon"


def test_null_return_path_marks_machine_mail():
    parsed = parse_message(corpus.message(headers={"Return-Path": "<>"}).as_bytes())

    assert parsed.is_auto and "null return path" in parsed.auto_reason


def test_our_own_message_id_domain_is_recognised():
    ours = corpus.message(message_id="<1717.42.99@switchboard.acme.test>").as_bytes()

    assert parse_message(ours, own_domain="switchboard.acme.test").is_own
    assert parse_message(ours, own_domain="Switchboard.ACME.test").is_noise
    assert not parse_message(ours, own_domain="other.test").is_own
    assert not parse_message(corpus.alternative(), own_domain="switchboard.acme.test").is_own


def test_dsn_with_5_1_1_names_the_bounced_message_and_recipient_and_is_permanent():
    parsed = parse_message(corpus.dsn_bounce())

    assert parsed.is_bounce and parsed.is_noise
    bounce = parsed.bounce
    assert bounce.original_message_id == "sent-7@switchboard.acme.test"
    assert bounce.recipient == "anna.kovacs@exmaple.com"
    assert (bounce.status, bounce.action, bounce.permanent) == ("5.1.1", "failed", True)
    assert "User unknown" in bounce.diagnostic
    assert "could not be delivered" in parsed.text  # the human-readable part is the text
    assert parsed.attachments == []  # the returned copy is evidence, not an attachment of the customer's


def test_delayed_dsn_is_not_permanent_and_reads_the_id_from_returned_headers():
    parsed = parse_message(corpus.headers_only_bounce())

    assert parsed.is_bounce
    assert parsed.bounce.original_message_id == "sent-9@switchboard.acme.test"
    assert (parsed.bounce.status, parsed.bounce.action, parsed.bounce.permanent) == ("4.2.2", "delayed", False)
    assert parsed.bounce.recipient == "bob@example.org"


def test_mailbox_full_4xx_bounce_is_temporary():
    parsed = parse_message(corpus.dsn_bounce(status="4.2.2", action="failed"))

    assert parsed.is_bounce and parsed.bounce.permanent is False


def test_bounce_without_a_report_is_read_from_its_text():
    parsed = parse_message(corpus.qmail_bounce())

    assert parsed.is_bounce and parsed.is_auto
    assert parsed.bounce.original_message_id == "sent-11@switchboard.acme.test"
    assert parsed.bounce.status == "5.1.1" and parsed.bounce.permanent


def test_customer_mail_mentioning_delivery_is_not_a_bounce():
    parsed = parse_message(corpus.message(subject="Undelivered parcel, delivery failure").as_bytes())

    assert not parsed.is_bounce and not parsed.is_noise
