"""Blanking content in place, shared by erasure (one customer's rows) and retention (rows past their age).

Each helper takes a queryset of the rows to blank and returns how many it changed. The rows stay — an interaction
keeps its messages' count, times and directions, a call its outcome and IVR path, a survey answer its score — so the
reports of any period keep their figures. Every helper is idempotent: a blanked row is left out by ``pending_*``
and a second run changes nothing, which is what lets an interrupted run simply start again.
"""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.db.models import Q, QuerySet

CHUNK = 500


def pending_messages(messages: QuerySet) -> QuerySet:
    """The messages that still hold a body or an attachment."""
    return messages.filter(~Q(body="") | ~Q(attachments=[]))


def blank_attachments(messages: QuerySet) -> int:
    """Delete the stored files of the messages' attachments and empty their lists."""
    changed = 0
    for message in messages.exclude(attachments=[]).only("pk", "attachments").iterator(chunk_size=CHUNK):
        for entry in message.attachments or []:
            path = entry.get("path") if isinstance(entry, dict) else None
            if path:
                default_storage.delete(path)  # a no-op for a file already gone: the step may run again
        type(message).objects.filter(pk=message.pk).update(attachments=[])
        changed += 1
    return changed


def blank_message_bodies(messages: QuerySet, *, external_ids: bool = False) -> int:
    """Empty the messages' bodies (and the provider's message ids, for an erasure: they may name an address)."""
    fields = {"body": "", **({"external_id": ""} if external_ids else {})}
    return messages.update(**fields)


def pending_recordings(calls: QuerySet) -> QuerySet:
    return calls.exclude(recording_url="")


def blank_recordings(calls: QuerySet) -> int:
    """Forget the recordings' URLs (the recording itself lives at the telephony provider, which deletes it by URL
    when told to; the link is all Switchboard holds)."""
    return calls.exclude(recording_url="").update(recording_url="")


def pending_survey_comments(responses: QuerySet) -> QuerySet:
    return responses.exclude(comment="")


def blank_survey_comments(responses: QuerySet) -> int:
    """Empty the free-text comments; the scores stay (CSAT, NPS and CES are computed from them)."""
    return responses.exclude(comment="").update(comment="")


def blank_messages(messages: QuerySet) -> int:
    """Attachments first (their files), then the bodies: what retention removes of a finished interaction."""
    blank_attachments(messages)
    return blank_message_bodies(messages)


def blank_dead_letters(letters: QuerySet) -> int:
    """A parked task's arguments (they may quote a customer); the letter stays as a record that it failed."""
    return letters.update(args=[], kwargs={})


def blank_raw_receipts(receipts: QuerySet) -> int:
    """A failed import's raw bytes (the whole e-mail); the receipt keeps its key, status and reason."""
    return receipts.update(raw=None)


def blank_webhook_payloads(deliveries: QuerySet) -> int:
    """A delivery's ``data``; its id, type and time stay, so the delivery log still reads."""
    changed = 0
    for delivery in deliveries.only("pk", "payload").iterator(chunk_size=CHUNK):
        payload = delivery.payload if isinstance(delivery.payload, dict) else {}
        kept = {key: payload[key] for key in ("id", "type", "created_at") if key in payload}
        changed += type(delivery).objects.filter(pk=delivery.pk).update(payload={**kept, "data": {}})
    return changed
