"""The one audit log (issue 16): ``AuditEntry``, append-only at the database, readable by supervisors (scoped)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from config.migration_tools import permissions_for

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION agents_auditentry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'agents_auditentry is append-only: rows cannot be updated or deleted'
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER agents_auditentry_no_rewrite BEFORE UPDATE OR DELETE ON agents_auditentry
    FOR EACH ROW EXECUTE FUNCTION agents_auditentry_append_only();
"""
DROP_APPEND_ONLY = """
DROP TRIGGER IF EXISTS agents_auditentry_no_rewrite ON agents_auditentry;
DROP FUNCTION IF EXISTS agents_auditentry_append_only();
"""
GRANTED = [("agents", "auditentry", ("view",))]


def grant_supervisors(apps, schema_editor):
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name="Supervisor")
    group.permissions.add(*permissions_for(apps, GRANTED))


def revoke_supervisors(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name="Supervisor").first()
    if group is not None:
        group.permissions.remove(*permissions_for(apps, GRANTED))


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0008_user_preference_verbose_names"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditEntry",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("at", models.DateTimeField(db_index=True, verbose_name="when")),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("admin", "Admin"),
                            ("api", "API"),
                            ("web", "Web"),
                            ("command", "Management command"),
                            ("system", "System"),
                        ],
                        max_length=16,
                        verbose_name="source",
                    ),
                ),
                ("actor", models.CharField(max_length=200, verbose_name="actor")),
                ("actor_api_key_id", models.PositiveBigIntegerField(blank=True, null=True, verbose_name="API key id")),
                ("client_ip", models.GenericIPAddressField(blank=True, null=True, verbose_name="client address")),
                ("object_id", models.CharField(blank=True, max_length=64, verbose_name="object id")),
                ("object_repr", models.CharField(blank=True, max_length=200, verbose_name="object")),
                ("action", models.CharField(max_length=64, verbose_name="action")),
                ("changes", models.JSONField(blank=True, default=dict, verbose_name="changes")),
                (
                    "actor_user",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
                (
                    "content_type",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="contenttypes.contenttype",
                        verbose_name="object type",
                    ),
                ),
                (
                    "team",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="agents.team",
                        verbose_name="team",
                    ),
                ),
            ],
            options={
                "verbose_name": "audit entry",
                "verbose_name_plural": "audit log",
                "ordering": ["-at", "-id"],
                "indexes": [
                    models.Index(fields=["content_type", "object_id"], name="auditentry_object"),
                    models.Index(fields=["team", "-at"], name="auditentry_team_time"),
                    models.Index(fields=["actor_user", "-at"], name="auditentry_actor_time"),
                ],
            },
        ),
        migrations.RunSQL(APPEND_ONLY, DROP_APPEND_ONLY),
        migrations.RunPython(grant_supervisors, revoke_supervisors),
    ]
