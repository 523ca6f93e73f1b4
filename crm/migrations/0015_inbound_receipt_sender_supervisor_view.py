"""Inbound receipts record who wrote and who took part (the sender of a message joining a thread, and whose
"[#id]" in a subject is trusted), and supervisors read their teams' receipts in the admin (issue 13)."""

import django.contrib.postgres.fields
from django.db import migrations, models

from config.migration_tools import permissions_for

GRANTED = [("crm", "inboundreceipt", ("view",))]


def grant_receipts(apps, schema_editor):
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name="Supervisor")
    group.permissions.add(*permissions_for(apps, GRANTED))


def revoke_receipts(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name="Supervisor").first()
    if group is not None:
        group.permissions.remove(*permissions_for(apps, GRANTED))


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("crm", "0014_supervisor_inbox_view"),
    ]

    operations = [
        migrations.AddField(
            model_name="inboundreceipt",
            name="participants",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.CharField(max_length=254), blank=True, default=list
            ),
        ),
        migrations.AddField(
            model_name="inboundreceipt",
            name="sender",
            field=models.CharField(blank=True, help_text="who wrote it (the From address)", max_length=254),
        ),
        migrations.RunPython(grant_receipts, revoke_receipts),
    ]
