"""The audit log's three foreign keys lose their own index: each leads one of ``auditentry_object``,
``auditentry_team_time`` and ``auditentry_actor_time``, and every audited change wrote all of them. Dropped without
locking writes (``config.migration_tools.foreign_key_indexes_dropped``, so this migration is not atomic)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from config.migration_tools import foreign_key_indexes_dropped


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("agents", "0010_agent_routing"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        foreign_key_indexes_dropped(
            "agents_auditentry",
            {
                "agents_auditentry_actor_user_id_9c036200": "actor_user_id",
                "agents_auditentry_content_type_id_27d12835": "content_type_id",
                "agents_auditentry_team_id_709b636a": "team_id",
            },
            [
                migrations.AlterField(
                    model_name="auditentry",
                    name="actor_user",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
                migrations.AlterField(
                    model_name="auditentry",
                    name="content_type",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="contenttypes.contenttype",
                        verbose_name="object type",
                    ),
                ),
                migrations.AlterField(
                    model_name="auditentry",
                    name="team",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="agents.team",
                        verbose_name="team",
                    ),
                ),
            ],
        ),
    ]
