"""A reply on an e-mail interaction reaches the customer through a real SMTP server (aiosmtpd): the outbox row, the
message as the customer's client sees it, temporary and permanent refusals, the sweep, and the retry."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from crm.choices import DeliveryStatus, MessageDirection
from crm.inboxes.adapters import base as adapters_base
from crm.inboxes.adapters import register_adapter
from crm.inboxes.attachments import attachment_store
from crm.inboxes.models import Delivery
from crm.inboxes.services.delivery import delivery_publish_due, delivery_send
from crm.interactions import services as lifecycle
from crm.interactions.models import Message
from crm.webhooks.models import WebhookDelivery
from tests.agents.factories import UserFactory
from tests.crm.factories import WebhookFactory
from tests.crm.inboxes.outbound import CUSTOMER, FIRST_ID, delivery_of, email_inbox, email_work, reply

pytestmark = pytest.mark.django_db

D = DeliveryStatus


def _due(delivery):
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now(), leased_until=None)


# --- the outbox ------------------------------------------------------------------------------------------------------


def test_a_reply_gets_its_delivery_in_its_own_transaction_and_shows_pending():
    work = email_work(email_inbox())

    message = reply(work)

    delivery = delivery_of(message)
    assert (delivery.status, delivery.attempts, delivery.inbox_id) == (D.PENDING, 0, work.inbox_id)
    assert delivery.next_attempt_at <= timezone.now()
    assert Message.objects.get(pk=message.pk).delivery_status == D.PENDING


def test_the_delivery_rolls_back_with_its_message():
    work = email_work(email_inbox())

    with pytest.raises(RuntimeError), transaction.atomic():
        reply(work, body="never sent")
        raise RuntimeError("the caller's transaction fails after the reply")

    assert not Message.objects.filter(body="never sent").exists()
    assert not Delivery.objects.exists()


def test_notes_customer_messages_and_work_without_an_inbox_deliver_nothing():
    work = email_work(email_inbox())
    lifecycle.message_create(interaction=work, direction=MessageDirection.INTERNAL, body="note", author=UserFactory())
    lifecycle.message_create(interaction=work, direction=MessageDirection.INBOUND, body="Any news?")
    api_work = email_work(email_inbox())
    api_work.inbox = None
    api_work.save(update_fields=["inbox"])
    reply(api_work)

    assert not Delivery.objects.exists()
    assert set(Message.objects.values_list("delivery_status", flat=True)) == {""}


# --- through the SMTP server ----------------------------------------------------------------------------------------


def test_an_api_reply_reaches_the_customer_threaded_from_the_inbox(
    smtp_sink, write_client, eager_tasks, django_capture_on_commit_callbacks
):
    work = email_work(email_inbox(smtp_url=smtp_sink.url()))
    lifecycle.message_create(
        interaction=work,
        direction=MessageDirection.INBOUND,
        body="Still broken.",
        external_id="second@mail.example.com",
    )

    with django_capture_on_commit_callbacks(execute=True):
        answer = write_client.post(
            f"/api/v1/interactions/{work.pk}/messages/",
            {"direction": "outbound", "body": "Please restart it.\nThen print a test page."},
            format="json",
        )

    assert answer.status_code == 201
    assert answer.json()["delivery_status"] == "pending" and answer.json()["inbox"] == work.inbox_id
    (received,) = smtp_sink.received
    assert (received.mail_from, received.rcpt_tos) == ("support@acme.test", [CUSTOMER])
    sent = received.message
    assert sent["From"] == "Acme Support <support@acme.test>" and sent["To"] == CUSTOMER
    assert sent["Subject"] == f"Re: Printer is broken [#{work.pk}]"
    # the customer's latest mail is the one answered; the whole thread is referenced, oldest first
    assert sent["In-Reply-To"] == "<second@mail.example.com>"
    assert sent["References"] == f"<{FIRST_ID}> <second@mail.example.com>"
    text, html = (sent.get_body((kind,)).get_content().replace("\r\n", "\n").strip() for kind in ("plain", "html"))
    assert text == "Please restart it.\nThen print a test page."
    assert html == "<p>Please restart it.<br>Then print a test page.</p>"
    message = Message.objects.get(pk=answer.json()["id"])
    delivery = delivery_of(message)
    # our Message-ID is kept, so the customer's answer (In-Reply-To: it) threads onto this interaction
    assert sent["Message-ID"] == f"<{message.external_id}>" and delivery.provider_id == message.external_id
    assert (message.delivery_status, delivery.attempts, delivery.sent_at is not None) == (D.SENT, 1, True)

    listed = write_client.get(f"/api/v1/interactions/{work.pk}/messages/").json()["results"][-1]
    assert listed["delivery_status"] == "sent"
    assert listed["delivery"] | {"sent_at": None} == {"status": "sent", "attempts": 1, "error": "", "sent_at": None}
    shown = write_client.get(f"/api/v1/interactions/{work.pk}/").json()
    assert shown["inbox"] == {"id": work.inbox_id, "name": "Acme support", "channel": "email"}


def test_the_files_the_agent_attached_go_with_the_reply(smtp_sink):
    work = email_work(email_inbox(smtp_url=smtp_sink.url()))
    data = bytes(range(256)) * 64
    stored = attachment_store(filename="invoice 2024.pdf", content_type="application/pdf", data=data)
    linked = {"name": "manual.pdf", "url": "https://example.com/manual.pdf"}  # a link only: nothing of ours to attach
    message = reply(work, attachments=[stored, linked])

    assert delivery_send(delivery_id=delivery_of(message).pk) == D.SENT

    sent = smtp_sink.received[0].message
    files = [(part.get_filename(), part.get_content_type(), part.get_content()) for part in sent.iter_attachments()]
    assert files == [("invoice 2024.pdf", "application/pdf", data)]


def test_an_inbox_without_smtp_url_sends_through_the_configured_mailer():
    work = email_work(email_inbox())

    assert delivery_send(delivery_id=delivery_of(reply(work)).pk) == D.SENT

    (sent,) = mail.outbox
    assert sent.to == [CUSTOMER] and sent.subject == f"Re: Printer is broken [#{work.pk}]"
    assert sent.extra_headers["In-Reply-To"] == f"<{FIRST_ID}>"


def test_a_temporary_refusal_is_retried_with_backoff_then_sent(smtp_sink, settings):
    settings.DELIVERY_RETRY_BASE_SECONDS = 60
    smtp_sink.temporary.add(CUSTOMER)
    message = reply(email_work(email_inbox(smtp_url=smtp_sink.url())))
    delivery = delivery_of(message)

    before = timezone.now()
    assert delivery_send(delivery_id=delivery.pk) == D.PENDING

    delivery.refresh_from_db()
    assert delivery.attempts == 1 and "451" in delivery.error and "trying again" in delivery.error
    # the first wait: between half and all of the base
    assert before + timedelta(seconds=29) <= delivery.next_attempt_at <= timezone.now() + timedelta(seconds=61)
    assert delivery_send(delivery_id=delivery.pk) is None  # not due yet: nothing sent, nothing counted
    assert delivery_publish_due() == 0

    smtp_sink.temporary.clear()
    _due(delivery)
    assert delivery_send(delivery_id=delivery.pk) == D.SENT

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.error) == (D.SENT, 2, "")
    assert len(smtp_sink.received) == 1 and Message.objects.get(pk=message.pk).delivery_status == D.SENT


def test_temporary_refusals_give_up_after_the_last_attempt(smtp_sink, settings):
    settings.DELIVERY_MAX_ATTEMPTS = 3
    smtp_sink.temporary.add(CUSTOMER)
    delivery = delivery_of(reply(email_work(email_inbox(smtp_url=smtp_sink.url()))))

    outcomes = []
    for _ in range(3):
        _due(delivery)
        outcomes.append(delivery_send(delivery_id=delivery.pk))

    assert outcomes == [D.PENDING, D.PENDING, D.FAILED]
    delivery.refresh_from_db()
    assert "gave up after 3 attempts" in delivery.error and "451" in delivery.error


def test_a_permanent_refusal_fails_tells_integrators_and_a_retry_sends_it(smtp_sink, write_client):
    hook = WebhookFactory(events=["message.delivery_failed"])
    smtp_sink.permanent.add(CUSTOMER)
    work = email_work(email_inbox(smtp_url=smtp_sink.url()))
    message = reply(work)
    delivery = delivery_of(message)

    assert delivery_send(delivery_id=delivery.pk) == D.FAILED

    delivery.refresh_from_db()
    assert delivery.attempts == 1 and "550" in delivery.error and "User unknown" in delivery.error
    listed = write_client.get(f"/api/v1/interactions/{work.pk}/messages/").json()["results"][-1]
    assert listed["delivery_status"] == "failed" and "User unknown" in listed["delivery"]["error"]
    (event,) = WebhookDelivery.objects.filter(webhook=hook)
    data = event.payload["data"]
    assert event.event_type == "message.delivery_failed"
    assert data["message"]["id"] == message.pk and data["message"]["interaction_id"] == work.pk
    assert data["delivery"]["status"] == "failed" and "User unknown" in data["delivery"]["error"]

    smtp_sink.permanent.clear()  # the customer's mailbox is fixed
    again = write_client.post(f"/api/v1/interactions/{work.pk}/messages/{message.pk}/retry", {}, format="json")

    assert again.status_code == 200
    assert again.json() | {"message": 0, "interaction": 0} == {
        "message": 0,
        "interaction": 0,
        "delivery_status": "pending",
        "attempts": 0,
        "error": "",
    }
    assert Message.objects.get(pk=message.pk).delivery_status == D.PENDING
    assert delivery_send(delivery_id=delivery.pk) == D.SENT
    assert len(smtp_sink.received) == 1


def test_only_a_failed_delivery_can_be_retried_and_only_by_who_may_write(write_client, read_client):
    work = email_work(email_inbox())
    message = reply(work)
    url = f"/api/v1/interactions/{work.pk}/messages/{message.pk}/retry/"

    pending = write_client.post(url, {}, format="json")
    assert pending.status_code == 409 and "only a failed delivery" in pending.json()["detail"].lower()
    Delivery.objects.filter(message=message).update(status=D.FAILED)
    assert read_client.post(url, {}, format="json").status_code == 403
    assert (
        write_client.post(f"/api/v1/interactions/{work.pk}/messages/999999/retry/", {}, format="json").status_code
        == 404
    )
    assert write_client.post(url, {"force": True}, format="json").status_code == 400
    assert Delivery.objects.get(message=message).status == D.FAILED


def test_the_sweep_sends_a_reply_whose_publish_was_lost(smtp_sink, eager_tasks, django_capture_on_commit_callbacks):
    work = email_work(email_inbox(smtp_url=smtp_sink.url()))
    with django_capture_on_commit_callbacks(execute=False):  # the process died before its on-commit publish
        message = reply(work)
    delivery = delivery_of(message)

    # the lost publish still holds its lease: the sweep does not publish it twice meanwhile
    assert delivery_publish_due() == 0
    Delivery.objects.filter(pk=delivery.pk).update(leased_until=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery_publish_due() == 1

    assert len(smtp_sink.received) == 1
    assert Delivery.objects.get(pk=delivery.pk).status == D.SENT
    assert delivery_publish_due() == 0


def test_a_sent_delivery_is_not_sent_again():
    delivery = delivery_of(reply(email_work(email_inbox())))

    assert delivery_send(delivery_id=delivery.pk) == D.SENT
    _due(delivery)
    assert delivery_send(delivery_id=delivery.pk) is None
    assert len(mail.outbox) == 1


def test_a_customer_without_an_address_fails_with_the_reason():
    work = email_work(email_inbox())
    work.customer.identities.all().delete()
    work.customer.email = ""
    work.customer.save(update_fields=["email"])

    assert delivery_send(delivery_id=delivery_of(reply(work)).pk) == D.FAILED
    assert "no email address" in Delivery.objects.get().error
    assert mail.outbox == []


def test_a_deactivated_inbox_fails_its_replies_visibly():
    inbox = email_inbox()
    work = email_work(inbox)
    inbox.is_active = False
    inbox.save(update_fields=["is_active"])

    assert delivery_send(delivery_id=delivery_of(reply(work)).pk) == D.FAILED
    assert "deactivated" in Delivery.objects.get().error


def test_listing_messages_with_their_deliveries_costs_the_same_for_2_or_20(
    own_cache_generation, write_client, django_assert_num_queries
):
    work = email_work(email_inbox())
    url = f"/api/v1/interactions/{work.pk}/messages/"
    reply(work)
    write_client.get(url)  # the key's first use is remembered (last_used_at): not part of the budget
    with django_assert_num_queries(3) as few:  # the key, the interaction, the page (with its deliveries)
        assert len(write_client.get(url).json()["results"]) == 2
    for n in range(18):
        reply(work, body=f"Reply {n}")
    with django_assert_num_queries(len(few.captured_queries)):
        rows = write_client.get(url).json()["results"]
    assert len(rows) == 20 and {row["delivery"]["status"] for row in rows[1:]} == {"pending"}


class BrokenAdapter:
    """An adapter with a bug: its send raises what no adapter should."""

    channel = "broken"

    def __init__(self, *, settings):
        self.settings = settings

    def send(self, message):
        raise RuntimeError("adapter bug")


def test_an_adapters_unexpected_error_is_retried_then_fails_visibly(settings):
    saved = dict(adapters_base._REGISTRY)
    register_adapter("broken", BrokenAdapter)
    try:
        settings.DELIVERY_MAX_ATTEMPTS = 2
        inbox = email_inbox()
        inbox.adapter = "broken"
        inbox.save(update_fields=["adapter"])
        delivery = delivery_of(reply(email_work(inbox)))

        assert delivery_send(delivery_id=delivery.pk) == D.PENDING
        _due(delivery)
        assert delivery_send(delivery_id=delivery.pk) == D.FAILED
    finally:
        adapters_base._REGISTRY.clear()
        adapters_base._REGISTRY.update(saved)
    assert "RuntimeError: adapter bug" in Delivery.objects.get(pk=delivery.pk).error
