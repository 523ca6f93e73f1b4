"""The Administrator group: the explicit administrator role (docs/security.md). Its members are unrestricted,
like superusers; ``is_staff`` alone grants no data. Its permissions are kept complete by ``agents.apps``."""

from django.db import migrations


def create(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name="Administrator")


def remove(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Administrator").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("agents", "0006_seed_break_types"),
    ]

    operations = [migrations.RunPython(create, remove)]
