"""The two default staff groups: Supervisor and Agent (admin permissions; API visibility is by team, not group).

Supervisors set up and run the center: they view, add and change customers, agents, queues, SLA
policies, interactions and API keys, and delete only light-weight rows (notes, and the skill / target
rows inside an agent, queue or policy form, which an edit must be able to remove). Agents look things
up, write notes and messages, and correct customer details.
"""

from django.db import migrations

VIEW, ADD, CHANGE, DELETE = "view", "add", "change", "delete"
VAC = (VIEW, ADD, CHANGE)

GROUPS = {
    "Supervisor": [
        ("contacts", "customer", VAC),
        ("contacts", "organization", VAC),
        ("contacts", "contactidentity", VAC),
        ("contacts", "note", (*VAC, DELETE)),
        ("agents", "agent", VAC),
        ("agents", "agentskill", (*VAC, DELETE)),
        ("agents", "team", (VIEW,)),
        ("agents", "skill", VAC),
        ("agents", "agentstatuslog", (VIEW,)),
        ("crm", "queue", VAC),
        ("crm", "queueskill", (*VAC, DELETE)),
        ("crm", "slapolicy", VAC),
        ("crm", "slatarget", (*VAC, DELETE)),
        ("crm", "interaction", VAC),
        ("crm", "interactionevent", (VIEW,)),
        ("crm", "message", VAC),
        ("crm", "survey", VAC),
        ("crm", "surveyresponse", (VIEW,)),
        ("crm", "apikey", VAC),
    ],
    "Agent": [
        ("contacts", "customer", (VIEW, CHANGE)),
        ("contacts", "organization", (VIEW,)),
        ("contacts", "contactidentity", (VIEW,)),
        ("contacts", "note", (VIEW, ADD)),
        ("agents", "skill", (VIEW,)),
        ("crm", "queue", (VIEW,)),
        ("crm", "interaction", (VIEW,)),
        ("crm", "message", (VIEW, ADD)),
    ],
}


def create_groups(apps, schema_editor):
    # Permissions are normally made by post_migrate, after every migration has run; make them now.
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        # create_permissions skips app configs without a models module, which historical ones lack
        original, app_config.models_module = getattr(app_config, "models_module", None), True
        try:
            create_permissions(app_config, apps=apps, verbosity=0)
        finally:
            app_config.models_module = original

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, grants in GROUPS.items():
        wanted = {(app, f"{action}_{model}") for app, model, actions in grants for action in actions}
        found = {
            (p.content_type.app_label, p.codename): p
            for p in Permission.objects.select_related("content_type").filter(
                content_type__app_label__in={app for app, _ in wanted}, codename__in={code for _, code in wanted}
            )
        }
        missing = wanted - set(found)
        if missing:
            raise RuntimeError(f"Permissions missing for group {name}: {sorted(missing)}")
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*(found[key] for key in wanted))


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("contacts", "0001_initial"),
        ("agents", "0001_initial"),
        ("crm", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
