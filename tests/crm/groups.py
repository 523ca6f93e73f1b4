"""The roles' groups as ``migrate`` leaves them, for tests that sign in as a supervisor or an administrator."""

import importlib

from django.apps import apps
from django.contrib.auth.models import Group

from agents.apps import grant_administrators_every_permission
from config.roles import ADMINISTRATOR_GROUP

# every migration that shapes the default groups, in order
GROUP_MIGRATIONS = [
    ("crm.migrations.0002_default_groups", "create_groups"),
    ("crm.migrations.0007_supervision_permissions_and_scorecard", "forwards"),
    ("crm.migrations.0010_supervisor_survey_webhook_permissions", "grant"),
    ("crm.migrations.0012_supervisor_privilege_downward", "forwards"),
    ("crm.migrations.0014_supervisor_inbox_view", "forwards"),
    ("crm.migrations.0015_inbound_receipt_sender_supervisor_view", "grant_receipts"),
    ("crm.migrations.0016_supervisor_delivery_view", "grant_deliveries"),
    ("agents.migrations.0009_audit_entry", "grant_supervisors"),
]


def default_groups() -> None:
    """Run the group migrations again (they are idempotent): a transactional test elsewhere in the session
    flushes the database, migration-made rows included, and --reuse-db keeps that state between sessions."""
    for module, function in GROUP_MIGRATIONS:
        getattr(importlib.import_module(module), function)(apps, None)
    Group.objects.get_or_create(name=ADMINISTRATOR_GROUP)
    grant_administrators_every_permission(sender=None)
