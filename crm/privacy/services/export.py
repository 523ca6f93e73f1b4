"""Right of access: one customer's data as JSON files in a ZIP, built in the background, downloaded once.

The request is written in the caller's transaction and its build queued on commit (``EXPORT_BUILD_TASK``); the
build streams each registry section (``crm.privacy.registry``) into the archive in chunks, so 5,000 interactions
never sit in memory at once, and records its progress on the request. The link handed out is signed
(``django.core.signing``) with the request's nonce and expires after ``SWITCHBOARD_EXPORT_LINK_HOURS``; the first
download clears the nonce, so the link works once.
"""

from __future__ import annotations

import json
import secrets
import tempfile
import zipfile
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from config.tasks import task_named
from contacts.models import Customer
from crm.interactions.models import Message

from ..models import ExportRequest, RequestStatus
from ..registry import SECTIONS

EXPORT_BUILD_TASK = "crm.tasks.export_build_task"
CHUNK = 500
_SALT = "crm.privacy.export"


class ExportLinkInvalid(Exception):
    """The link is forged, expired, already used, or presented by someone else than the requester."""


def export_request(*, customer: Customer, user=None, api_key=None) -> ExportRequest:
    """Record the request; its build starts when the caller's transaction commits."""
    export = ExportRequest.objects.create(
        customer=customer,
        requested_by=user if user is not None and user.pk else None,
        requested_by_key=api_key,
    )
    transaction.on_commit(lambda: task_named(EXPORT_BUILD_TASK).delay(export.pk))
    return export


def _rows(section, customer_id: int):
    model = apps.get_model(section.label)
    queryset = model.objects.filter(**{section.lookup: customer_id}).order_by("pk")
    skip = set(section.exclude)
    names = [f.attname for f in model._meta.concrete_fields if f.name not in skip and f.attname not in skip]
    for row in queryset.values(*names).iterator(chunk_size=CHUNK):
        yield {key: (value.tobytes().hex() if isinstance(value, memoryview) else value) for key, value in row.items()}


def _write_section(archive: zipfile.ZipFile, section, customer_id: int) -> int:
    count = 0
    with archive.open(section.file, "w") as out:
        out.write(b"[")
        for row in _rows(section, customer_id):
            out.write((b",\n" if count else b"\n") + json.dumps(row, cls=DjangoJSONEncoder).encode())
            count += 1
        out.write(b"\n]\n")
    return count


def _attachment_links(customer_id: int) -> list[dict]:
    """Attachments and recordings: their entries (name, type, size, storage path or URL), not the bytes."""
    links = []
    rows = Message.objects.filter(interaction__customer_id=customer_id).exclude(attachments=[])
    for message_id, entries in rows.values_list("pk", "attachments").iterator(chunk_size=CHUNK):
        for entry in entries or []:
            links.append({"message_id": message_id, **entry})
    return links


def export_build(*, export_id: int) -> str:
    """Build the archive; idempotent (a done request is left alone, a re-run of a failed one starts over)."""
    with transaction.atomic():
        export = ExportRequest.objects.select_for_update().filter(pk=export_id).first()
        if export is None or export.status == RequestStatus.DONE:
            return "skipped"
        export.status = RequestStatus.RUNNING
        export.progress = 0
        export.save(update_fields=["status", "progress"])
    customer = export.customer
    sections = [s for s in SECTIONS if s.file]
    counts: dict[str, int] = {}
    with tempfile.TemporaryFile() as spool:
        with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for done, section in enumerate(sections, start=1):
                counts[section.file] = _write_section(archive, section, customer.pk)
                ExportRequest.objects.filter(pk=export_id).update(progress=int(done * 90 / len(sections)))
            organization = customer.organization
            archive.writestr(
                "organization.json",
                json.dumps(
                    {"id": organization.pk, "name": organization.name, "domain": organization.domain}
                    if organization
                    else None
                ),
            )
            archive.writestr("attachments.json", json.dumps(_attachment_links(customer.pk), cls=DjangoJSONEncoder))
            consents = {"surveys": not customer.survey_opt_out, "marketing": customer.marketing_consent}
            archive.writestr("consents.json", json.dumps(consents))
            manifest = {"customer_id": customer.pk, "generated_at": timezone.now().isoformat(), "rows": counts}
            archive.writestr("manifest.json", json.dumps(manifest, indent=2))
        size = spool.tell()
        spool.seek(0)
        export.file.save(f"export-{export.pk}-{secrets.token_hex(8)}.zip", File(spool), save=False)
    export.size = size
    export.status = RequestStatus.DONE
    export.progress = 100
    export.nonce = secrets.token_urlsafe(24)
    export.finished_at = timezone.now()
    export.expires_at = export.finished_at + timedelta(hours=settings.SWITCHBOARD_EXPORT_LINK_HOURS)
    export.save(update_fields=["file", "size", "status", "progress", "nonce", "finished_at", "expires_at"])
    return "done"


def export_link_token(export: ExportRequest) -> str | None:
    """The signed token of the download link; None while not built or once used."""
    if export.status != RequestStatus.DONE or not export.nonce or export.downloaded_at:
        return None
    return signing.dumps({"id": export.pk, "n": export.nonce}, salt=_SALT)


def _is_requester(export: ExportRequest, *, user_id: int | None, api_key_id: int | None) -> bool:
    if export.requested_by_key_id is not None:
        return api_key_id == export.requested_by_key_id
    return export.requested_by_id is not None and user_id == export.requested_by_id


def export_claim(*, export_id: int, token: str, user_id: int | None, api_key_id: int | None) -> ExportRequest:
    """Check the link and mark the export downloaded (once); the caller then streams ``export.file``."""
    max_age = settings.SWITCHBOARD_EXPORT_LINK_HOURS * 3600
    try:
        claim = signing.loads(token, salt=_SALT, max_age=max_age)
    except signing.BadSignature as error:
        raise ExportLinkInvalid("This download link is invalid or has expired.") from error
    with transaction.atomic():
        export = ExportRequest.objects.select_for_update().filter(pk=export_id).first()
        if export is None or claim.get("id") != export.pk or not export.nonce or claim.get("n") != export.nonce:
            raise ExportLinkInvalid("This download link is invalid or was already used.")
        if not _is_requester(export, user_id=user_id, api_key_id=api_key_id):
            raise ExportLinkInvalid("Only whoever asked for this export may download it.")
        export.downloaded_at = timezone.now()
        export.nonce = ""
        export.save(update_fields=["downloaded_at", "nonce"])
    return export
