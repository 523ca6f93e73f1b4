"""Integrators' access: API keys (stored hashed) and what an ``Idempotency-Key`` POST produced."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from agents.models import Team


class ApiKey(models.Model):
    """An integrator's key. Only a SHA-256 hash is stored; the key itself is shown once at creation.

    ``scopes`` holds ``read``, ``write`` and/or ``admin``. A key bound to a ``team`` sees only that
    team's queues, agents and interactions.
    """

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True, help_text="the key's first characters, to recognise it")
    hashed_key = models.CharField(max_length=64, unique=True)
    scopes = ArrayField(models.CharField(max_length=16), default=list)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="api_keys")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scopes__contained_by=["read", "write", "admin"]), name="apikey_scopes_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        from django.utils import timezone

        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class IdempotencyRecord(models.Model):
    """What a POST with an ``Idempotency-Key`` produced, so a retry returns it instead of creating again."""

    owner = models.CharField(max_length=40, help_text="'key:<api key id>' or 'user:<user id>'")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="empty while in flight")
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="idempotency_owner_key_unique")]

    def __str__(self) -> str:
        return f"{self.owner} {self.key}"
