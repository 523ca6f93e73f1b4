"""Integrators' webhook subscriptions, the delivery outbox and the log of every attempt."""

import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.choices import WebhookDeliveryStatus


class Webhook(models.Model):
    """An integrator's subscription: signed POSTs of the chosen event types to ``url``.

    ``failure_count`` counts consecutive failed attempts since ``failing_since``; a subscription that keeps
    failing for ``WEBHOOK_DISABLE_AFTER_SECONDS`` is switched off with ``disabled_reason`` and a notice.
    """

    name = models.CharField(max_length=100, blank=True)
    url = models.URLField(max_length=2000)
    events = ArrayField(models.CharField(max_length=50), default=list, help_text='event types, or ["*"]')
    secret = models.CharField(max_length=200, help_text="the HMAC-SHA256 key receivers verify signatures with")
    is_active = models.BooleanField(default=True)
    failure_count = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        ordering = ["-id"]
        indexes = [GinIndex(name="webhook_events", fields=["events"], condition=models.Q(is_active=True))]

    def __str__(self) -> str:
        return self.name or self.url


class WebhookDelivery(models.Model):
    """One event for one subscription: the outbox row, written in the transaction that caused the event.

    Unique per (webhook, event id), so a repeated emit or publish never delivers an event twice to one
    receiver; receivers de-duplicate by ``event_id`` (sent as ``Switchboard-Event-Id``) across our retries.
    """

    # no index of its own: webhookdelivery_webhook and webhookdelivery_event_unique start with it
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    event_id = models.UUIDField(default=uuid.uuid4)
    event_type = models.CharField(max_length=50)
    payload = models.JSONField(help_text="the whole body: id, type, created_at, data")
    status = models.CharField(
        max_length=16, choices=WebhookDeliveryStatus.choices, default=WebhookDeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    leased_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["webhook", "event_id"], name="webhookdelivery_event_unique"),
            models.CheckConstraint(
                condition=models.Q(status__in=WebhookDeliveryStatus.values), name="webhookdelivery_status_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="webhookdelivery_pending_due",
                condition=models.Q(status=WebhookDeliveryStatus.PENDING),
            ),
            models.Index(fields=["webhook", "-id"], name="webhookdelivery_webhook"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} → {self.webhook_id}"


class WebhookAttempt(models.Model):
    """One POST of a delivery: what the receiver answered, how long it took, or what went wrong."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["delivery", "attempted_at", "id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} at {self.attempted_at:%Y-%m-%d %H:%M:%S}: {self.status_code or self.error[:40]}"
