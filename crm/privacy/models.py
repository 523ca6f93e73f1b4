"""Data protection: an export (right of access), an erasure (right to erasure), and the retention policies."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from config.choices import Channel
from contacts.models import Customer


class RequestStatus(models.TextChoices):
    PENDING = "pending", "pending"
    RUNNING = "running", "running"
    DONE = "done", "done"
    REFUSED = "refused", "refused"
    FAILED = "failed", "failed"


class ExportRequest(models.Model):
    """One archive of one customer's data, built by Celery, downloadable once by whoever asked for it.

    ``nonce`` goes into the signed download link; it is cleared at the first download, so the link works once.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="export_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    requested_by_key = models.ForeignKey(
        "crm.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    progress = models.PositiveSmallIntegerField(default=0, help_text="percent of the sections written")
    file = models.FileField(upload_to="exports/", blank=True)
    size = models.PositiveBigIntegerField(default=0)
    nonce = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    downloaded_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"export {self.pk} of customer {self.customer_id} ({self.status})"


class ErasureRequest(models.Model):
    """Who asked to erase which customer, when and why; the steps done so far (a resumed run skips them).

    Once done, this row is the tombstone: it names the customer row by id and counts what was erased, and holds
    no address or hash of one (a hash of a phone number is reversible by enumeration, and keeping one would
    re-link a late inbound message to the erased person — which must instead start a fresh customer).
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="erasure_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    requested_by_key = models.ForeignKey(
        "crm.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=500)
    immediately = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    due_at = models.DateTimeField(help_text="not erased before (the grace period, unless immediately)")
    steps_done = models.JSONField(default=list, blank=True, help_text="the steps finished, in order")
    counts = models.JSONField(default=dict, blank=True, help_text="rows changed per step")
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["due_at"], name="erasure_due", condition=models.Q(status="pending"))]

    def __str__(self) -> str:
        return f"erasure {self.pk} of customer {self.customer_id} ({self.status})"


class RetentionTarget(models.TextChoices):
    """What a retention policy removes; each is blanked in place, so the rows the reports count stay."""

    MESSAGES = "messages", _("message bodies and attachments of finished interactions")
    RECORDINGS = "recordings", _("call recordings")
    SURVEY_COMMENTS = "survey_comments", _("survey comments")
    RAW_IMPORTS = "raw_imports", _("dead letters' arguments and failed imports' raw bytes")
    WEBHOOK_PAYLOADS = "webhook_payloads", _("webhook delivery payloads")


class RetentionPolicy(models.Model):
    """Keep one kind of content no longer than ``age_days``: the beat's daily run blanks what is older.

    The age counts from when the interaction finished (resolved, closed or abandoned) for messages, recordings and
    survey comments, and from when the row was made for raw imports and webhook payloads. ``channel`` and ``queue``
    narrow a policy to one channel's or one queue's interactions (e.g. chat transcripts: messages, channel chat);
    they do not apply to webhook payloads and dead letters, which belong to no interaction. Customers under legal
    hold are exempt. Several policies may cover the same rows: the shortest wins, as it runs first to find them.
    """

    name = models.CharField(_("name"), max_length=120)
    target = models.CharField(_("what"), max_length=24, choices=RetentionTarget.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, blank=True)
    queue = models.ForeignKey(
        "crm.Queue", null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("queue")
    )
    age_days = models.PositiveIntegerField(
        _("keep for (days)"), validators=[MinValueValidator(1)], help_text=_("removed once older than this")
    )
    is_active = models.BooleanField(_("active"), default=True)
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)
    removed_total = models.PositiveBigIntegerField(_("removed so far"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["target", "age_days", "id"]
        verbose_name = _("retention policy")
        verbose_name_plural = _("retention policies")
        constraints = [models.CheckConstraint(condition=models.Q(age_days__gte=1), name="retention_age_positive")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.target == RetentionTarget.WEBHOOK_PAYLOADS and (self.channel or self.queue_id):
            raise ValidationError(_("Webhook payloads belong to no channel or queue: leave both empty."))
        if self.target == RetentionTarget.RECORDINGS and self.channel not in ("", Channel.VOICE):
            raise ValidationError({"channel": _("Recordings are of calls: leave the channel empty or choose voice.")})
