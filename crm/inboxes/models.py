"""Inboxes (one connected address, number, site or line), what arrived through them and what leaves through them.

- ``Inbox``: a channel, the adapter that speaks to its provider, a default queue and the adapter's settings. Its
  ``token`` is the secret part of its inbound URL; settings holding secrets (passwords inside IMAP/SMTP URLs, API
  tokens) are shown only as the adapter redacts them after creation.
- ``InboundReceipt``: one thing that arrived (an e-mail, a provider's webhook): its key (the Message-ID, or a
  synthetic one), the outcome (imported, noise, failed with the reason) and, when it failed, the raw bytes so it
  can be run again. Unique per inbox and key, so a message delivered twice is imported once.
- ``MailboxCursor``: where the IMAP import of an inbox stands (UIDVALIDITY and the last imported UID).
- ``Delivery``: the outbox row of one outbound message, written in the message's transaction, sent after commit
  by a task and by the sweep if that was missed; the message's ``delivery_status`` mirrors its state.
"""

import secrets

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from config.choices import Channel
from crm.choices import DeliveryStatus


def new_inbox_token() -> str:
    return secrets.token_urlsafe(24)


class InboxState(models.TextChoices):
    ACTIVE = "active", "Active"
    REAUTHORISE = "reauthorise", "Re-authorisation required"


class Inbox(models.Model):
    """One connected address, number, site or line through which customers reach the center."""

    name = models.CharField(max_length=100)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    adapter = models.CharField(max_length=32, help_text="the provider adapter: email, bridge, …")
    queue = models.ForeignKey("crm.Queue", on_delete=models.PROTECT, related_name="inboxes")
    display_name = models.CharField(max_length=100, blank=True, help_text="the sender name customers see")
    settings = models.JSONField(default=dict, blank=True)
    token = models.CharField(max_length=64, unique=True, default=new_inbox_token, editable=False)
    is_active = models.BooleanField(default=True)
    state = models.CharField(max_length=16, choices=InboxState.choices, default=InboxState.ACTIVE)
    state_detail = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("inbox")
        verbose_name_plural = _("inboxes")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_channel_display()})"


class ReceiptStatus(models.TextChoices):
    IMPORTED = "imported", "Imported"
    NOISE = "noise", "Recorded, not answered (auto-reply, bounce, our own mail)"
    FAILED = "failed", "Failed"
    QUEUED = "queued", "Queued (stored, waiting for its import)"


class InboundReceipt(models.Model):
    """One thing that arrived at an inbox, once: the import log and the de-duplication key."""

    # no index of its own: the unique (inbox, key) starts with it
    inbox = models.ForeignKey(Inbox, on_delete=models.CASCADE, related_name="receipts", db_index=False)
    key = models.CharField(max_length=300, help_text="the Message-ID (or a synthetic key) of what arrived")
    status = models.CharField(max_length=16, choices=ReceiptStatus.choices)
    reason = models.TextField(blank=True)
    raw = models.BinaryField(
        null=True, blank=True, help_text="kept while queued, and when the import failed, to run it again"
    )
    size = models.PositiveIntegerField(default=0)
    source = models.CharField(max_length=16, default="endpoint", help_text="endpoint, imap, api")
    sender = models.CharField(max_length=254, blank=True, help_text="who wrote it (the From address)")
    # Everyone the message names (From, Reply-To, To, Cc) but the inbox itself: the thread's participants, whose
    # "[#id]" in a subject is trusted to name their interaction (crm.inboxes.services.threads).
    participants = ArrayField(models.CharField(max_length=254), default=list, blank=True)
    # indexed where set (Meta): a mail is stored without them (the queued endpoint's INSERT writes no entry for them)
    interaction = models.ForeignKey(
        "crm.Interaction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    message = models.ForeignKey(
        "crm.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    received_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=1)

    class Meta:
        verbose_name = _("inbound receipt")
        verbose_name_plural = _("inbound receipts")
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["inbox", "key"], name="inbound_receipt_once")]
        indexes = [
            models.Index(
                fields=["inbox", "received_at"], name="inbound_receipt_failed", condition=models.Q(status="failed")
            ),
            # the queued imports' drain (an inbox's, in arrival order) and the beat's sweep: only queued rows
            models.Index(fields=["inbox", "id"], name="inbound_receipt_queued", condition=models.Q(status="queued")),
            # what an interaction or message was imported from (and their deletion's SET NULL)
            models.Index(
                fields=["interaction"],
                name="inbound_receipt_interaction",
                condition=models.Q(interaction__isnull=False),
            ),
            models.Index(fields=["message"], name="inbound_receipt_message", condition=models.Q(message__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"


class MailboxCursor(models.Model):
    """How far the IMAP import of an inbox got; locked while a worker imports, so two workers import once."""

    inbox = models.OneToOneField(Inbox, on_delete=models.CASCADE, related_name="mailbox_cursor", primary_key=True)
    uidvalidity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)
    polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)


class Delivery(models.Model):
    """The outbox row of one outbound message (written in the message's transaction)."""

    message = models.OneToOneField("crm.Message", on_delete=models.CASCADE, related_name="delivery")
    inbox = models.ForeignKey(Inbox, on_delete=models.PROTECT, related_name="deliveries")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    leased_until = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    provider_id = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["next_attempt_at"], name="delivery_due", condition=models.Q(status="pending"))]

    def __str__(self) -> str:
        return f"delivery of message {self.message_id} ({self.status})"
