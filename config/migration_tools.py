"""What data migrations that grant model permissions share.

Kept stable on purpose: historical migrations import it, so a change here changes how they replay. Migrations
that landed before this module existed (crm 0002, 0007, 0010) carry their own copy and are left as they are.
"""


def permissions_for(apps, grants):
    """The ``Permission`` rows of ``grants`` (``[(app_label, model_name, ("view", ...)), ...]``), created first when
    ``migrate`` has not made them yet (it makes them after the last migration). Raises if any is missing."""
    from django.contrib.auth.management import create_permissions

    for label in {app for app, _, _ in grants}:
        app_config = apps.get_app_config(label)
        # create_permissions skips app configs without a models module, which historical ones lack
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


def foreign_key_indexes_dropped(table, indexes, state_operations):
    """Foreign keys that lose their own one-column index (``db_index=False``): the model state learns it from
    ``state_operations`` (the ``AlterField``s ``makemigrations`` wrote), while the database only drops each index of
    ``indexes`` (``{name: column}``, Django's generated names) with ``DROP INDEX CONCURRENTLY`` — Django's own
    ``AlterField`` would drop and re-add each foreign key, re-checking every row under a lock that blocks writes.
    For a non-atomic migration; reversing builds the indexes again, concurrently too."""
    from django.db import migrations

    return migrations.SeparateDatabaseAndState(
        state_operations=state_operations,
        database_operations=[
            migrations.RunSQL(
                f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"',
                reverse_sql=f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" ON "{table}" ("{column}")',
            )
            for name, column in indexes.items()
        ],
    )
