"""Supervisors read inboxes (issue 13): the admin shows them those on their teams' queues and the shared queues',
settings redacted; only administrators add, change and delete them (``crm.inboxes.admin``)."""

from django.db import migrations

GRANTED = [("crm", "inbox", ("view",))]


def _permissions(apps, grants):
    from django.contrib.auth.management import create_permissions

    for label in {app for app, _, _ in grants}:
        app_config = apps.get_app_config(label)
        original, app_config.models_module = getattr(app_config, "models_module", None), True
        try:
            create_permissions(app_config, apps=apps, verbosity=0)
        finally:
            app_config.models_module = original
    Permission = apps.get_model("auth", "Permission")
    found = []
    for app, model, actions in grants:
        codenames = [f"{action}_{model}" for action in actions]
        permissions = list(Permission.objects.filter(content_type__app_label=app, codename__in=codenames))
        if len(permissions) != len(codenames):
            raise RuntimeError(f"Permissions missing for {app}.{model}: {codenames}")
        found.extend(permissions)
    return found


def forwards(apps, schema_editor):
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name="Supervisor")
    group.permissions.add(*_permissions(apps, GRANTED))


def backwards(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name="Supervisor").first()
    if group is not None:
        group.permissions.remove(*_permissions(apps, GRANTED))


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("crm", "0013_inboxes_deliveries"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
