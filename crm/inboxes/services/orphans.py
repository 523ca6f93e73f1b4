"""Removing stored files that no message names (see ``crm.inboxes.file_ledger`` for how they come about).

``orphan_files_sweep`` (beat, hourly) takes the ledger's files written more than
``SWITCHBOARD_ORPHAN_FILE_GRACE_SECONDS`` ago — long past any transaction still writing the message — and deletes
each one that no message's ``attachments`` names. One named after all (its claim was lost: a worker stopped
between commit and the hook) is kept and only leaves the ledger. Idempotent: a file already gone is forgotten.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.files.storage import default_storage

from crm.interactions.models import Message

from ..file_ledger import files_forget, files_unclaimed

logger = logging.getLogger(__name__)

SWEEP_BATCH = 500


def orphan_files_sweep(*, grace_seconds: float | None = None, limit: int = SWEEP_BATCH) -> int:
    """Delete the orphaned files among the ledger's old entries; answers how many were deleted."""
    grace = settings.SWITCHBOARD_ORPHAN_FILE_GRACE_SECONDS if grace_seconds is None else grace_seconds
    candidates = files_unclaimed(written_before=time.time() - grace, limit=limit)
    deleted, settled = 0, []
    for path in candidates:
        if Message.objects.filter(attachments__contains=[{"path": path}]).exists():
            settled.append(path)  # named by a message: kept
            continue
        try:
            if default_storage.exists(path):
                default_storage.delete(path)
                deleted += 1
        except OSError:  # stays in the ledger: tried again next sweep
            logger.warning("inboxes: could not delete the orphaned file %s", path, exc_info=True)
            continue
        settled.append(path)
    files_forget(settled)
    if deleted:
        logger.info("inboxes: deleted %s stored files that no message names", deleted)
    return deleted
