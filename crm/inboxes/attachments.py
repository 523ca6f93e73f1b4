"""Attachment files of messages, kept through Django's storage API (``default_storage``).

A message's ``attachments`` JSON lists ``{"name", "content_type", "size", "path"}`` per file: ``path`` is the
storage name the file was saved under (absent for attachments an integrator described by ``url`` only, which we
neither fetch nor serve). What was left out (over a size limit) is listed with ``"skipped": "<reason>"`` and no
``path``, so the agent sees it is missing. Inbound e-mail writes its files with ``crm.inboxes.services.files``
(same entries); this module stores what an agent attaches to a reply and reads any stored entry back.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from .file_ledger import files_written

ATTACHMENT_ROOT = "attachments"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _storage_name(filename: str) -> str:
    """A path of our choosing: the customer's file name only as a readable, sanitised tail."""
    tail = _UNSAFE.sub("_", filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip("._")[:80] or "file"
    return f"{ATTACHMENT_ROOT}/{timezone.now():%Y/%m/%d}/{secrets.token_hex(16)}/{tail}"


def attachment_store(*, filename: str, content_type: str, data: bytes) -> dict[str, Any]:
    """Save one file; the entry to list in ``Message.attachments``."""
    path = default_storage.save(_storage_name(filename), ContentFile(data))
    files_written([path])  # claimed when its reply commits; swept if the reply is refused (crm.inboxes.file_ledger)
    return {
        "name": filename or "attachment",
        "content_type": content_type or "application/octet-stream",
        "size": len(data),
        "path": path,
    }


def attachment_is_stored(entry: Mapping[str, Any]) -> bool:
    """Whether ``entry`` names a file we stored. Only our code writes ``path`` (the API's and the bridge's attachment
    fields have none); a path that would leave the storage's root is refused all the same."""
    path = entry.get("path")
    return isinstance(path, str) and bool(path) and not path.startswith("/") and ".." not in path.split("/")


def attachment_is_listed(entry: Mapping[str, Any]) -> bool:
    """Whether ``entry`` is something the customer or agent attached, not one of the message's own parts (an inbound
    e-mail keeps its HTML body and its whole text as files too, flagged ``body_html`` / ``body_text``)."""
    return isinstance(entry, Mapping) and not entry.get("body_html") and not entry.get("body_text")


def attachment_open(entry: Mapping[str, Any]):
    """The stored file of ``entry`` opened for reading; ``FileNotFoundError`` when it has none (or it is gone)."""
    if not attachment_is_stored(entry):
        raise FileNotFoundError(f"attachment {entry.get('name')!r} has no stored file")
    return default_storage.open(entry["path"], "rb")


def attachment_read(entry: Mapping[str, Any]) -> bytes:
    with attachment_open(entry) as handle:
        return handle.read()
