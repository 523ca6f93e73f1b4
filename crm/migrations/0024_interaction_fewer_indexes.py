"""Five one-column indexes of ``crm_interaction`` go: customer, queue and agent are the first column of an index
already there (``interaction_customer_time``, ``interaction_queue_status``, ``interaction_agent_status``), and
inbox and follow-up are indexed only where set (most work has neither). Every create and every move wrote all of
them. The two partial indexes are built first and without locking writes (``CONCURRENTLY``, so this migration is
not atomic), and the old ones dropped the same way; the foreign keys themselves are not touched."""

import django.db.models.deletion
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("agents", "0010_agent_routing"),
        ("contacts", "0007_verbose_names"),
        ("crm", "0023_routing_agent_load"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="interaction",
            index=models.Index(
                condition=models.Q(("inbox__isnull", False)), fields=["inbox"], name="interaction_inbox"
            ),
        ),
        AddIndexConcurrently(
            model_name="interaction",
            index=models.Index(
                condition=models.Q(("follow_up_of__isnull", False)),
                fields=["follow_up_of"],
                name="interaction_follow_up_of",
            ),
        ),
        # the state learns db_index=False; the database only loses the indexes (Django's own AlterField would drop
        # and re-add each foreign key, re-checking every row under a lock that blocks writes)
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="interaction",
                    name="agent",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="interactions",
                        to="agents.agent",
                    ),
                ),
                migrations.AlterField(
                    model_name="interaction",
                    name="customer",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="interactions",
                        to="contacts.customer",
                    ),
                ),
                migrations.AlterField(
                    model_name="interaction",
                    name="follow_up_of",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        help_text="an earlier interaction of the same customer this one repeats (FCR)",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="follow_ups",
                        to="crm.interaction",
                    ),
                ),
                migrations.AlterField(
                    model_name="interaction",
                    name="inbox",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        help_text="the inbox the customer wrote to (empty for work entered through the API)",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="interactions",
                        to="crm.inbox",
                    ),
                ),
                migrations.AlterField(
                    model_name="interaction",
                    name="queue",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="interactions",
                        to="crm.queue",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX CONCURRENTLY IF EXISTS "crm_interaction_agent_id_aed2ad30"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "crm_interaction_agent_id_aed2ad30" ON "crm_interaction" ("agent_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX CONCURRENTLY IF EXISTS "crm_interaction_customer_id_33430ec4"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "crm_interaction_customer_id_33430ec4" ON "crm_interaction" ("customer_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX CONCURRENTLY IF EXISTS "crm_interaction_follow_up_of_id_c1d3c526"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "crm_interaction_follow_up_of_id_c1d3c526" ON "crm_interaction" ("follow_up_of_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX CONCURRENTLY IF EXISTS "crm_interaction_inbox_id_aade72aa"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "crm_interaction_inbox_id_aade72aa" ON "crm_interaction" ("inbox_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX CONCURRENTLY IF EXISTS "crm_interaction_queue_id_c70e7630"',
                    reverse_sql='CREATE INDEX CONCURRENTLY IF NOT EXISTS "crm_interaction_queue_id_c70e7630" ON "crm_interaction" ("queue_id")',
                ),
            ],
        ),
    ]
