"""Supervisors read their teams' deliveries (the outbox) in the admin (issue 13)."""

from django.db import migrations

from config.migration_tools import permissions_for

GRANTED = [("crm", "delivery", ("view",))]


def grant_deliveries(apps, schema_editor):
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name="Supervisor")
    group.permissions.add(*permissions_for(apps, GRANTED))


def revoke_deliveries(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name="Supervisor").first()
    if group is not None:
        group.permissions.remove(*permissions_for(apps, GRANTED))


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("crm", "0015_inbound_receipt_sender_supervisor_view"),
    ]

    operations = [migrations.RunPython(grant_deliveries, revoke_deliveries)]
