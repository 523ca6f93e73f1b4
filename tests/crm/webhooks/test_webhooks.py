import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from agents.choices import AgentStatus
from crm.choices import InteractionStatus, WebhookDeliveryStatus
from crm.interactions import services as lifecycle
from crm.webhooks.models import WebhookAttempt, WebhookDelivery
from crm.webhooks.services import (
    retry_delay,
    webhook_check_url,
    webhook_create,
    webhook_deliver,
    webhook_emit,
    webhook_publish_due,
    webhook_resend,
)
from tests.agents.factories import AgentFactory, UserFactory
from tests.crm.factories import WebhookDeliveryFactory, WebhookFactory, interaction_in_status

pytestmark = pytest.mark.django_db

D = WebhookDeliveryStatus


def verify(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """What a receiver does (the README's snippet)."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"]) and abs(time.time() - int(parts["t"])) < tolerance


def _due_now(delivery):
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


# --- emitting ---------------------------------------------------------------------------------------------------


def test_emit_writes_one_delivery_per_matching_active_subscription_with_one_event_id():
    everything = WebhookFactory(events=["*"])
    resolved = WebhookFactory(events=["interaction.resolved"])
    WebhookFactory(events=["survey.answered"])
    WebhookFactory(events=["interaction.resolved"], is_active=False)

    deliveries = webhook_emit(type="interaction.resolved", data={"interaction": {"id": 7}})

    assert {d.webhook_id for d in deliveries} == {everything.pk, resolved.pk}
    assert len({d.event_id for d in deliveries}) == 1
    payload = deliveries[0].payload
    assert set(payload) == {"id", "type", "created_at", "data"}
    assert payload["type"] == "interaction.resolved" and payload["data"] == {"interaction": {"id": 7}}


def test_emit_inside_a_transaction_that_rolls_back_leaves_nothing_to_send():
    WebhookFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        webhook_emit(type="interaction.created", data={})
        raise RuntimeError("the caller fails after emitting")
    assert not WebhookDelivery.objects.exists()


def test_lifecycle_writes_created_assigned_and_resolved_events(django_capture_on_commit_callbacks):
    WebhookFactory(events=["interaction.created", "interaction.assigned", "interaction.resolved"])
    interaction = interaction_in_status(InteractionStatus.RESOLVED, subject="Broken router")

    types = list(WebhookDelivery.objects.order_by("id").values_list("event_type", flat=True))
    assert types == ["interaction.created", "interaction.assigned", "interaction.resolved"]
    resolved = WebhookDelivery.objects.get(event_type="interaction.resolved").payload["data"]
    assert resolved["interaction"]["id"] == interaction.pk
    assert resolved["interaction"]["status"] == "resolved" and resolved["from_status"] == "active"


def test_a_transfer_to_an_agent_is_an_assignment_event():
    interaction = interaction_in_status(InteractionStatus.ACTIVE)
    WebhookFactory(events=["interaction.assigned"])
    colleague = AgentFactory(team=interaction.agent.team, status=AgentStatus.AVAILABLE)
    lifecycle.interaction_transfer(interaction=interaction, to_agent=colleague)
    delivery = WebhookDelivery.objects.get()
    assert delivery.payload["data"]["interaction"]["agent_id"] == colleague.pk


# --- delivering -------------------------------------------------------------------------------------------------


def test_delivery_is_signed_and_the_signature_verifies(receiver):
    webhook = WebhookFactory(url=receiver.url, secret="s3cret-s3cret-s3cret")
    delivery = webhook_emit(type="interaction.created", data={"interaction": {"id": 1}})[0]

    assert webhook_deliver(delivery_id=delivery.pk) == D.DELIVERED

    request = receiver.requests[0]
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["switchboard-event-id"] == str(delivery.event_id)
    assert verify(webhook.secret, headers["switchboard-signature"], request["body"])
    assert not verify("another secret", headers["switchboard-signature"], request["body"])
    assert not verify(webhook.secret, headers["switchboard-signature"], request["body"] + b" ")
    assert json.loads(request["body"])["id"] == str(delivery.event_id)
    attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert attempt.status_code == 200 and attempt.error == ""


def test_a_500_is_retried_later_with_backoff_then_delivered(receiver, settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 10
    receiver.statuses = [500]
    WebhookFactory(url=receiver.url)
    delivery = webhook_emit(type="interaction.created", data={})[0]

    before = timezone.now()
    assert webhook_deliver(delivery_id=delivery.pk) == D.PENDING
    delivery.refresh_from_db()
    assert before + timedelta(seconds=5) <= delivery.next_attempt_at <= timezone.now() + timedelta(seconds=10)
    # not due yet: a second message does nothing
    assert webhook_deliver(delivery_id=delivery.pk) is None
    assert len(receiver.requests) == 1

    _due_now(delivery)
    assert webhook_deliver(delivery_id=delivery.pk) == D.DELIVERED
    assert [a.status_code for a in WebhookAttempt.objects.filter(delivery=delivery)] == [500, 200]
    # delivered: further messages change nothing
    assert webhook_deliver(delivery_id=delivery.pk) is None
    assert len(receiver.requests) == 2


def test_backoff_doubles_with_jitter_up_to_the_maximum(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS, settings.WEBHOOK_RETRY_MAX_DELAY_SECONDS = 10, 300
    for attempts, ceiling in [(1, 10), (2, 20), (3, 40), (6, 300), (12, 300)]:
        delays = [retry_delay(attempts) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jitter: retries of many deliveries do not stampede together


def test_a_delivery_older_than_the_max_age_is_given_up(receiver, settings):
    settings.WEBHOOK_MAX_AGE_SECONDS = 60
    receiver.statuses = [503]
    delivery = WebhookDeliveryFactory(
        webhook=WebhookFactory(url=receiver.url), created_at=timezone.now() - timedelta(seconds=59)
    )
    assert webhook_deliver(delivery_id=delivery.pk) == D.FAILED


def test_a_subscription_failing_too_long_is_disabled_with_a_notice(
    receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES, settings.WEBHOOK_DISABLE_AFTER_SECONDS = 3, 0
    UserFactory(is_superuser=True, is_staff=True, email="admin@example.com")
    receiver.statuses = [500] * 5
    webhook = WebhookFactory(url=receiver.url)
    deliveries = [WebhookDeliveryFactory(webhook=webhook) for _ in range(4)]

    with django_capture_on_commit_callbacks(execute=True):
        for delivery in deliveries[:3]:
            webhook_deliver(delivery_id=delivery.pk)

    webhook.refresh_from_db()
    assert not webhook.is_active and webhook.disabled_at is not None
    assert "3 failed attempts" in webhook.disabled_reason and "HTTP 500" in webhook.disabled_reason
    assert [m.to for m in mail.outbox] == [["admin@example.com"]]
    assert webhook.url in mail.outbox[0].body
    # what was still pending is not sent to a disabled subscription
    assert webhook_deliver(delivery_id=deliveries[3].pk) == D.FAILED
    assert len(receiver.requests) == 3


def test_success_clears_the_failure_count(receiver):
    receiver.statuses = [500]
    webhook = WebhookFactory(url=receiver.url)
    first, second = WebhookDeliveryFactory(webhook=webhook), WebhookDeliveryFactory(webhook=webhook)
    webhook_deliver(delivery_id=first.pk)
    webhook.refresh_from_db()
    assert webhook.failure_count == 1
    webhook_deliver(delivery_id=second.pk)
    webhook.refresh_from_db()
    assert webhook.failure_count == 0 and webhook.failing_since is None


def test_resend_delivers_again_with_the_same_event_id(receiver):
    delivery = WebhookDeliveryFactory(webhook=WebhookFactory(url=receiver.url))
    webhook_deliver(delivery_id=delivery.pk)
    webhook_resend(delivery=delivery)
    assert delivery.status == D.PENDING
    assert webhook_deliver(delivery_id=delivery.pk) == D.DELIVERED
    ids = [r["headers"]["Switchboard-Event-Id"] for r in receiver.requests]
    assert ids == [str(delivery.event_id)] * 2


# --- the sweep --------------------------------------------------------------------------------------------------


def test_sweep_publishes_due_deliveries_not_in_flight():
    webhook = WebhookFactory()
    now = timezone.now()
    due = WebhookDeliveryFactory(webhook=webhook, next_attempt_at=now - timedelta(seconds=1))
    WebhookDeliveryFactory(webhook=webhook, next_attempt_at=now + timedelta(minutes=5))
    WebhookDeliveryFactory(webhook=webhook, next_attempt_at=now, leased_until=now + timedelta(seconds=30))
    WebhookDeliveryFactory(webhook=webhook, next_attempt_at=now, status=D.DELIVERED)

    assert webhook_publish_due() == 1
    due.refresh_from_db()
    assert due.leased_until > now
    # leased now: the next sweep leaves it alone
    assert webhook_publish_due() == 0


# --- request forgery --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8080/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://localhost:8000/hook",
        "ftp://93.184.216.34/hook",
        "file:///etc/passwd",
    ],
)
def test_private_loopback_link_local_and_non_http_targets_are_refused(url):
    with pytest.raises(ValidationError) as excinfo:
        webhook_check_url(url)
    assert "url" in excinfo.value.message_dict


def test_a_hostname_resolving_to_loopback_is_refused_by_its_address():
    with pytest.raises(ValidationError, match="127.0.0.1"):
        webhook_create(url="http://localhost/hook", events=["*"])


def test_public_addresses_are_allowed():
    assert webhook_check_url("https://93.184.216.34/hook") == "https://93.184.216.34/hook"


def test_the_setting_allows_private_targets(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    for url in ["http://127.0.0.1/hook", "http://10.1.2.3/hook", "http://localhost/hook", "http://[::1]/hook"]:
        assert webhook_check_url(url) == url
    with pytest.raises(ValidationError):
        webhook_check_url("ftp://127.0.0.1/")


def test_the_address_is_checked_again_at_send_time(receiver, settings):
    """A target that was public when saved and resolves inside now (DNS rebinding) is not called."""
    delivery = WebhookDeliveryFactory(webhook=WebhookFactory(url=receiver.url))
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False

    assert webhook_deliver(delivery_id=delivery.pk) == D.PENDING
    assert receiver.requests == []
    assert "private, loopback or link-local" in WebhookAttempt.objects.get(delivery=delivery).error
