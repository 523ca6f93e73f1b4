"""``AuditEntry``: the one audit log of every change (issue 16), written by ``config.audit`` through ``agents.audit``.

Append-only at the database (a trigger refuses UPDATE and DELETE, migration 0009). Its relations (actor, team,
content type) carry no database constraint and no cascade: a row outlives the user, team or model it names, and
deleting those never has to rewrite the log.
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditSource(models.TextChoices):
    ADMIN = "admin", _("Admin")
    API = "api", _("API")
    WEB = "web", _("Web")
    COMMAND = "command", _("Management command")
    SYSTEM = "system", _("System")


class AuditEntry(models.Model):
    """Who (a user, an API key, a command or the system) did what (create/update/delete or an action's name) to
    which object, when, from which address, and which fields changed from what to what (``{field: [old, new]}``;
    ``"changed"`` alone for a customer's personal data and for secrets, which are never stored)."""

    at = models.DateTimeField(_("when"), db_index=True)
    source = models.CharField(_("source"), max_length=16, choices=AuditSource.choices)
    actor = models.CharField(_("actor"), max_length=200)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False,
        related_name="+", verbose_name=_("user"), db_index=False,
    )  # fmt: skip
    actor_api_key_id = models.PositiveBigIntegerField(_("API key id"), null=True, blank=True)
    client_ip = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    content_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+",
        verbose_name=_("object type"), db_index=False,
    )  # fmt: skip
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    action = models.CharField(_("action"), max_length=64)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    team = models.ForeignKey(
        "agents.Team", null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+",
        verbose_name=_("team"), db_index=False,
    )  # fmt: skip

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-id"]
        # the three foreign keys have no index of their own: each leads one of these
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="auditentry_object"),
            models.Index(fields=["team", "-at"], name="auditentry_team_time"),
            models.Index(fields=["actor_user", "-at"], name="auditentry_actor_time"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor}: {self.action} {self.object_repr}".strip()
