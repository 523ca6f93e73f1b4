"""Supervisors grant nothing they lack and change nothing of other teams (issue 11).

Taken from the Supervisor group:
- API keys (a key bound to no team is unrestricted), webhook subscriptions and their deliveries (a subscription
  receives every team's events, signed with its secret): administrators' only;
- adding and changing the center-wide configuration every team shares (SLA policies and their targets,
  skills, training courses, scorecards and their criteria): supervisors read it, administrators change it.
Given to it: reading the business-hours calendars the SLA policies use, and their teams' assignments and SLA
escalations (the admin shows a supervisor only their teams' rows).

The admin refuses the same to anyone who is not an administrator whatever their permissions
(``agents.admin_scope``), so a permission granted by hand later does not reopen the way.
"""

from django.db import migrations

from config.migration_tools import permissions_for

REVOKED = [
    ("crm", "apikey", ("view", "add", "change")),
    ("crm", "webhook", ("view",)),
    ("crm", "webhookdelivery", ("view",)),
    ("crm", "slapolicy", ("add", "change")),
    ("crm", "slatarget", ("add", "change", "delete")),
    ("crm", "scorecard", ("add", "change")),
    ("crm", "scorecardcriterion", ("add", "change", "delete")),
    ("agents", "skill", ("add", "change")),
    ("agents", "trainingcourse", ("add", "change")),
]
GRANTED = [
    ("crm", "businesshours", ("view",)),
    ("crm", "businesshoursperiod", ("view",)),
    ("crm", "businesshoursholiday", ("view",)),
    ("crm", "assignment", ("view",)),
    ("crm", "escalation", ("view",)),
]


def forwards(apps, schema_editor):
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name="Supervisor")
    group.permissions.remove(*permissions_for(apps, REVOKED))
    group.permissions.add(*permissions_for(apps, GRANTED))


def backwards(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name="Supervisor").first()
    if group is not None:
        group.permissions.remove(*permissions_for(apps, GRANTED))
        group.permissions.add(*permissions_for(apps, REVOKED))


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("agents", "0007_administrator_group"),
        ("crm", "0011_routing_idle_index"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
