"""The import receipt, written by every mail the endpoint accepts, keeps fewer indexes: its inbox's own index goes
(the unique (inbox, key) starts with it), and its interaction and message are indexed only where set (a queued mail
has neither until it is imported). The partial indexes are built first and the old ones dropped without locking
writes (``CONCURRENTLY``, so this migration is not atomic); the foreign keys themselves are not touched
(``config.migration_tools.foreign_key_indexes_dropped``)."""

import django.db.models.deletion
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models

from config.migration_tools import foreign_key_indexes_dropped


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("crm", "0025_inbound_receipt_queued"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="inboundreceipt",
            index=models.Index(
                condition=models.Q(("interaction__isnull", False)),
                fields=["interaction"],
                name="inbound_receipt_interaction",
            ),
        ),
        AddIndexConcurrently(
            model_name="inboundreceipt",
            index=models.Index(
                condition=models.Q(("message__isnull", False)), fields=["message"], name="inbound_receipt_message"
            ),
        ),
        foreign_key_indexes_dropped(
            "crm_inboundreceipt",
            {
                "crm_inboundreceipt_inbox_id_a528d310": "inbox_id",
                "crm_inboundreceipt_interaction_id_dcd9f05f": "interaction_id",
                "crm_inboundreceipt_message_id_bcaae675": "message_id",
            },
            [
                migrations.AlterField(
                    model_name="inboundreceipt",
                    name="inbox",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="receipts",
                        to="crm.inbox",
                    ),
                ),
                migrations.AlterField(
                    model_name="inboundreceipt",
                    name="interaction",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="crm.interaction",
                    ),
                ),
                migrations.AlterField(
                    model_name="inboundreceipt",
                    name="message",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="crm.message",
                    ),
                ),
            ],
        ),
    ]
