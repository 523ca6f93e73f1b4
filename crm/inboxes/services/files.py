"""The files of an inbound e-mail, kept through Django's storage API (``default_storage``), and how its message
lists them.

``Message.attachments`` of an inbound e-mail holds one dict per part (what the console and the API read):

* an attachment kept: ``{"name", "content_type", "size", "path", "inline", "content_id"}``. ``path`` is the storage
  name, ``inbox/<inbox id>/<yyyy>/<mm>/<uuid>/<filename>``; an ``inline`` part is an image the HTML body shows by
  ``cid:<content_id>``.
* an attachment left out: ``{"name", "content_type", "size", "skipped": "<why>"}`` (over a size limit). It is
  listed, never dropped silently, so the agent knows what is missing and can ask for it.
* the message's own parts, which are not attachments the customer sent, flagged so a list of attachments can
  leave them out: ``"body_html": true`` (the sanitised HTML body, ``text/html``: how the customer saw their mail)
  and ``"body_text": true`` (the whole text, quoted history included, when the body shown was trimmed or
  shortened: nothing the customer wrote is lost).

Files are written before the rows that name them. A failed import removes what it wrote (``StoredFiles.discard``);
a file can only be orphaned when an enclosing transaction rolls back later (an IMAP batch failing halfway): each
file is entered in ``crm.inboxes.file_ledger`` when written and claimed when its message commits, and the orphan
sweep (``crm.inboxes.services.orphans``) deletes what stays unclaimed.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.text import get_valid_filename

from crm.inboxes.adapters.base import ParsedInbound
from crm.inboxes.file_ledger import files_written

logger = logging.getLogger(__name__)

HTML_NAME, TEXT_NAME = "message.html", "message.txt"


@dataclass
class StoredFiles:
    entries: list[dict] = field(default_factory=list)  # what goes into Message.attachments
    paths: list[str] = field(default_factory=list)  # storage names written

    def discard(self) -> None:
        """Remove what was written (the import that needed the files failed)."""
        for path in self.paths:
            try:
                default_storage.delete(path)
            except Exception:  # best effort: an unreferenced file is harmless
                logger.warning("inbound mail: could not remove %s", path, exc_info=True)
        self.paths.clear()


def _filename(name: str) -> str:
    try:
        return get_valid_filename(name)[:200] or "attachment"
    except Exception:  # "." or "..": nothing usable left
        return "attachment"


def _save(*, inbox_id: int, name: str, data: bytes, stored: StoredFiles) -> str:
    now = timezone.now()
    target = f"inbox/{inbox_id}/{now:%Y}/{now:%m}/{uuid.uuid4().hex}/{_filename(name)}"
    path = default_storage.save(target, ContentFile(data))
    stored.paths.append(path)
    files_written([path])
    return path


def store_message_files(*, inbox_id: int, parsed: ParsedInbound, keep_full_text: bool) -> StoredFiles:
    """Write the message's attachments (and its HTML body, and its whole text when ``keep_full_text``); answer the
    ``Message.attachments`` entries, the skipped attachments listed too."""
    stored = StoredFiles()
    try:
        if parsed.html:
            data = parsed.html.encode("utf-8")
            path = _save(inbox_id=inbox_id, name=HTML_NAME, data=data, stored=stored)
            stored.entries.append(
                {"name": HTML_NAME, "content_type": "text/html", "size": len(data), "path": path, "body_html": True}
            )
        if keep_full_text:
            data = parsed.text.encode("utf-8")
            path = _save(inbox_id=inbox_id, name=TEXT_NAME, data=data, stored=stored)
            stored.entries.append(
                {"name": TEXT_NAME, "content_type": "text/plain", "size": len(data), "path": path, "body_text": True}
            )
        for attachment in parsed.attachments:
            path = _save(inbox_id=inbox_id, name=attachment.filename, data=attachment.data, stored=stored)
            stored.entries.append(
                {
                    "name": attachment.filename,
                    "content_type": attachment.content_type,
                    "size": attachment.size,
                    "path": path,
                    "inline": attachment.inline,
                    "content_id": attachment.content_id,
                }
            )
    except BaseException:
        stored.discard()
        raise
    for skipped in parsed.skipped_attachments:
        stored.entries.append(
            {
                "name": skipped.filename,
                "content_type": skipped.content_type,
                "size": skipped.size,
                "skipped": skipped.reason,
            }  # fmt: skip
        )
    return stored
