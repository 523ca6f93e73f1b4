"""One-column foreign-key indexes that copied another index go, on the tables the hot paths write:
``crm_interaction`` (customer, queue and agent lead an index already there; inbox and follow-up are indexed only
where set, most work has neither), ``crm_message`` (interaction; author and inbox where set), ``crm_interactionevent``
(interaction; actor and agent where set), ``crm_assignment``, ``crm_survey`` (interaction) and
``crm_webhookdelivery`` (webhook). The partial indexes are built first and the old ones dropped without locking
writes (``CONCURRENTLY``, so this migration is not atomic); the foreign keys themselves are not touched
(``config.migration_tools.foreign_key_indexes_dropped``)."""

import django.db.models.deletion
from django.conf import settings
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models

from config.migration_tools import foreign_key_indexes_dropped


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("agents", "0011_fewer_indexes"),
        ("contacts", "0007_verbose_names"),
        ("crm", "0023_routing_agent_load"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
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
        AddIndexConcurrently(
            model_name="interactionevent",
            index=models.Index(condition=models.Q(("actor__isnull", False)), fields=["actor"], name="event_actor"),
        ),
        AddIndexConcurrently(
            model_name="interactionevent",
            index=models.Index(condition=models.Q(("agent__isnull", False)), fields=["agent"], name="event_agent"),
        ),
        AddIndexConcurrently(
            model_name="message",
            index=models.Index(condition=models.Q(("author__isnull", False)), fields=["author"], name="message_author"),
        ),
        AddIndexConcurrently(
            model_name="message",
            index=models.Index(condition=models.Q(("inbox__isnull", False)), fields=["inbox"], name="message_inbox"),
        ),
        foreign_key_indexes_dropped(
            "crm_interaction",
            {
                "crm_interaction_agent_id_aed2ad30": "agent_id",
                "crm_interaction_customer_id_33430ec4": "customer_id",
                "crm_interaction_follow_up_of_id_c1d3c526": "follow_up_of_id",
                "crm_interaction_inbox_id_aade72aa": "inbox_id",
                "crm_interaction_queue_id_c70e7630": "queue_id",
            },
            [
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
        ),
        foreign_key_indexes_dropped(
            "crm_message",
            {
                "crm_message_author_id_4d7d9f59": "author_id",
                "crm_message_inbox_id_e7028ce9": "inbox_id",
                "crm_message_interaction_id_244c4db5": "interaction_id",
            },
            [
                migrations.AlterField(
                    model_name="message",
                    name="author",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        help_text="empty for the customer",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="inbox",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="messages",
                        to="crm.inbox",
                    ),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="interaction",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="messages",
                        to="crm.interaction",
                    ),
                ),
            ],
        ),
        foreign_key_indexes_dropped(
            "crm_interactionevent",
            {
                "crm_interactionevent_actor_id_e24a2889": "actor_id",
                "crm_interactionevent_agent_id_4adebad3": "agent_id",
                "crm_interactionevent_interaction_id_e7a8237c": "interaction_id",
            },
            [
                migrations.AlterField(
                    model_name="interactionevent",
                    name="actor",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="interactionevent",
                    name="agent",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="agents.agent",
                    ),
                ),
                migrations.AlterField(
                    model_name="interactionevent",
                    name="interaction",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="crm.interaction",
                    ),
                ),
            ],
        ),
        foreign_key_indexes_dropped(
            "crm_assignment",
            {
                "crm_assignment_interaction_id_af7cb35c": "interaction_id",
            },
            [
                migrations.AlterField(
                    model_name="assignment",
                    name="interaction",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="assignments",
                        to="crm.interaction",
                    ),
                ),
            ],
        ),
        foreign_key_indexes_dropped(
            "crm_survey",
            {
                "crm_survey_interaction_id_009e88ee": "interaction_id",
            },
            [
                migrations.AlterField(
                    model_name="survey",
                    name="interaction",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="surveys",
                        to="crm.interaction",
                    ),
                ),
            ],
        ),
        foreign_key_indexes_dropped(
            "crm_webhookdelivery",
            {
                "crm_webhookdelivery_webhook_id_c9295d7f": "webhook_id",
            },
            [
                migrations.AlterField(
                    model_name="webhookdelivery",
                    name="webhook",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="deliveries",
                        to="crm.webhook",
                    ),
                ),
            ],
        ),
    ]
