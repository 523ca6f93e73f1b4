"""Supervisors read inboxes (issue 13): the admin shows them those on their teams' queues and the shared queues',
settings redacted; only administrators add, change and delete them (``crm.inboxes.admin``)."""

from django.db import migrations

from config.migration_tools import permissions_for

GRANTED = [("crm", "inbox", ("view",))]


def forwards(apps, schema_editor):
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name="Supervisor")
    group.permissions.add(*permissions_for(apps, GRANTED))


def backwards(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name="Supervisor").first()
    if group is not None:
        group.permissions.remove(*permissions_for(apps, GRANTED))


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("crm", "0013_inboxes_deliveries"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
