"""Receipts can be ``queued`` (stored by the endpoint, waiting for the drain: ``crm.inboxes.services.queued``); the
drain finds them by a partial index of the queued rows, built without locking writes (so not atomic)."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("crm", "0024_fewer_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="inboundreceipt",
            name="raw",
            field=models.BinaryField(
                blank=True, help_text="kept while queued, and when the import failed, to run it again", null=True
            ),
        ),
        migrations.AlterField(
            model_name="inboundreceipt",
            name="status",
            field=models.CharField(
                choices=[
                    ("imported", "Imported"),
                    ("noise", "Recorded, not answered (auto-reply, bounce, our own mail)"),
                    ("failed", "Failed"),
                    ("queued", "Queued (stored, waiting for its import)"),
                ],
                max_length=16,
            ),
        ),
        AddIndexConcurrently(
            model_name="inboundreceipt",
            index=models.Index(
                condition=models.Q(("status", "queued")), fields=["inbox", "id"], name="inbound_receipt_queued"
            ),
        ),
    ]
