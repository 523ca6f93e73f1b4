"""Supervisors set the survey suppression rules and follow (and re-send) webhook deliveries.

Subscriptions themselves and the dead letters stay with administrators (superusers): a subscription receives
every event of the center, and a dead letter is an operations matter.
"""

from django.db import migrations

GRANTS = [
    ("surveysuppressionrule", ("view", "add", "change", "delete")),
    ("webhook", ("view",)),
    ("webhookdelivery", ("view",)),
]


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config("crm")
    original, app_config.models_module = getattr(app_config, "models_module", None), True
    try:
        create_permissions(app_config, apps=apps, verbosity=0)
    finally:
        app_config.models_module = original
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    codenames = [f"{action}_{model}" for model, actions in GRANTS for action in actions]
    permissions = list(Permission.objects.filter(content_type__app_label="crm", codename__in=codenames))
    if len(permissions) != len(codenames):
        raise RuntimeError("crm permissions missing for the Supervisor group")
    group, _ = Group.objects.get_or_create(name="Supervisor")
    group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    codenames = [f"{action}_{model}" for model, actions in GRANTS for action in actions]
    for group in Group.objects.filter(name="Supervisor"):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="crm", codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("crm", "0009_surveys_webhooks_outbox_deadletters"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
