"""Retention: the daily run that blanks what is older than its policy allows (``crm.privacy.selectors``).

Each policy blanks at most ``SWITCHBOARD_RETENTION_BATCH_SIZE`` rows of each kind per transaction, with its row
locked (``SKIP LOCKED``: a second worker takes another policy, never the same rows). What is left goes to the next
batch: the task queues itself again until nothing remains. Blanked rows no longer match, so a run killed mid-way
resumes where it stopped by simply running again, and a run with nothing due changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ..models import RetentionPolicy
from ..selectors import retention_plan

RETENTION_RUN_TASK = "crm.tasks.retention_run_task"


def retention_run(*, now: datetime | None = None, batch_size: int | None = None) -> dict[str, int]:
    """One batch of every active policy; ``{"removed": rows blanked, "more": 1 if rows remain, else 0}``."""
    now = now or timezone.now()
    batch_size = batch_size or settings.SWITCHBOARD_RETENTION_BATCH_SIZE
    removed, more = 0, 0
    for policy, parts in retention_plan(now=now):
        with transaction.atomic():
            locked = RetentionPolicy.objects.select_for_update(skip_locked=True).filter(pk=policy.pk).first()
            if locked is None or not locked.is_active:  # another worker runs it, or it was switched off
                continue
            count = 0
            for part in parts:
                ids = list(part.rows.order_by("pk").values_list("pk", flat=True)[: batch_size + 1])
                more |= len(ids) > batch_size
                if ids:
                    count += part.blank(part.rows.model.objects.filter(pk__in=ids[:batch_size]))
            RetentionPolicy.objects.filter(pk=policy.pk).update(
                last_run_at=now, removed_total=F("removed_total") + count
            )
        removed += count
    return {"removed": removed, "more": int(more)}
