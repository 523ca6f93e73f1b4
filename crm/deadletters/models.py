"""Celery messages parked instead of processed (``config.tasks`` writes them)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DeadLetter(models.Model):
    """A Celery message that could not be processed: redelivered too often (it kills its worker) or failed for good.

    Parked here instead of looping through the broker forever; an admin can read it and queue it again.
    """

    task_id = models.CharField(max_length=64, unique=True)
    task_name = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    exception = models.TextField(blank=True)
    delivery_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    requeued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("dead letter")
        verbose_name_plural = _("dead letters")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.task_name} {self.task_id}"
