"""Right to erasure: a customer's personal data erased everywhere, their work kept for the reports.

A request waits out ``SWITCHBOARD_ERASURE_GRACE_HOURS`` (a window to cancel a mistaken one) unless a privileged
caller asks for it ``immediately``. The run is a fixed list of steps; each step and its record on the request
commit together, so a worker killed mid-way resumes at the first step not recorded, and running a finished
request again changes nothing. Steps that redact copies (webhook payloads, event data, idempotency replies, dead
letters) come first, while the values to look for (name, addresses, bodies, comments) are still in their source
rows; the sources are wiped last.

What stays: the customer row (interactions point at it, ``PROTECT``) renamed "Erased customer <id>" with no
address, and every interaction's channel, queue, agent, timestamps, outcome, durations and survey scores, so the
reports of any period keep their figures. The identities are deleted, not hashed: a late inbound message from the
same address finds no identity and starts a fresh customer (``contacts.services``), as it must.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from config.tasks import task_named
from contacts.models import ContactIdentity, Customer, Note
from crm.access.models import IdempotencyRecord
from crm.calls.models import Call
from crm.deadletters.models import DeadLetter
from crm.inboxes.models import Delivery, InboundReceipt
from crm.interactions.models import Interaction, InteractionEvent, Message
from crm.surveys.models import Survey, SurveyResponse
from crm.webhooks.models import WebhookDelivery

from ..models import ErasureRequest, RequestStatus
from .blanking import blank_attachments, blank_message_bodies, blank_recordings, blank_survey_comments

ERASURE_RUN_TASK = "crm.tasks.erasure_run_task"
ERASED = "[erased]"
CHUNK = 500
_FREE_TEXT_KEYS = frozenset({"body", "subject", "comment", "name", "email", "phone", "address", "sender"})


class ErasureRefused(Exception):
    """The customer may not be erased (legal hold); the message says why, for the caller."""


def erasure_request(
    *, customer: Customer, reason: str, immediately: bool = False, user=None, api_key=None
) -> ErasureRequest:
    """Record the request (refused at once under legal hold); an immediate one runs when the transaction commits."""
    now = timezone.now()
    due_at = now if immediately else now + timedelta(hours=settings.SWITCHBOARD_ERASURE_GRACE_HOURS)
    erasure = ErasureRequest(
        customer=customer,
        reason=reason,
        immediately=immediately,
        due_at=due_at,
        requested_by=user if user is not None and user.pk else None,
        requested_by_key=api_key,
    )
    if customer.legal_hold:
        erasure.status = RequestStatus.REFUSED
        erasure.detail = "The customer is under legal hold: their data may not be erased until the hold is lifted."
        erasure.save()
        raise ErasureRefused(erasure.detail)
    erasure.save()
    if immediately:
        transaction.on_commit(lambda: task_named(ERASURE_RUN_TASK).delay(erasure.pk))
    return erasure


# --- what to look for -------------------------------------------------------------------------------------------


def _values(customer: Customer) -> set[str]:
    """The personal strings still held in the customer's source rows (at least 3 characters, to match safely)."""
    values = {customer.name, customer.email, customer.phone}
    values.update(ContactIdentity.objects.filter(customer=customer).values_list("address", flat=True))
    values.update(Note.objects.filter(customer=customer).values_list("body", flat=True))
    interactions = Interaction.objects.filter(customer=customer)
    values.update(interactions.values_list("subject", flat=True))
    values.update(Message.objects.filter(interaction__customer=customer).values_list("body", flat=True))
    values.update(
        SurveyResponse.objects.filter(survey__interaction__customer=customer).values_list("comment", flat=True)
    )
    if customer.erased_at is not None:
        values.discard(customer.name)  # "Erased customer <id>" is no personal data
    return {value.strip() for value in values if value and len(value.strip()) >= 3}


def _redact(value: Any, values: set[str]) -> Any:
    """``value`` with every string that holds one of ``values`` replaced, and free-text keys blanked."""
    if isinstance(value, dict):
        return {
            key: (ERASED if key in _FREE_TEXT_KEYS and isinstance(item, str) and item else _redact(item, values))
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_redact(item, values) for item in value]
    if isinstance(value, str) and any(needle in value for needle in values):
        return ERASED
    return value


def _mentions(document: Any, values: set[str]) -> bool:
    text = json.dumps(document, ensure_ascii=False)
    return any(needle in text or json.dumps(needle, ensure_ascii=False)[1:-1] in text for needle in values)


def _redact_rows(queryset, field: str, values: set[str], *, all_rows: bool) -> int:
    changed = 0
    for row in queryset.only("pk", field).iterator(chunk_size=CHUNK):
        document = getattr(row, field)
        if all_rows or _mentions(document, values):
            redacted = _redact(document, values)
            if redacted != document:
                type(row).objects.filter(pk=row.pk).update(**{field: redacted})
                changed += 1
    return changed


# --- the steps --------------------------------------------------------------------------------------------------


def _step_webhook_payloads(customer: Customer, values: set[str]) -> int:
    interaction_ids = list(Interaction.objects.filter(customer=customer).values_list("pk", flat=True))
    linked = WebhookDelivery.objects.filter(
        Q(payload__data__interaction__customer_id=customer.pk)
        | Q(payload__data__message__interaction_id__in=interaction_ids)
        | Q(payload__data__interaction__id__in=interaction_ids)
        | Q(payload__data__customer__id=customer.pk)
    )
    return _redact_rows(linked, "payload", values, all_rows=True)


def _step_event_data(customer: Customer, values: set[str]) -> int:
    events = InteractionEvent.objects.filter(interaction__customer=customer).exclude(data={})
    return _redact_rows(events, "data", values, all_rows=False)


def _step_copies(customer: Customer, values: set[str]) -> int:
    """Short-lived tables that may quote the customer: idempotent replies (a day) and parked dead letters."""
    changed = _redact_rows(
        IdempotencyRecord.objects.filter(response_body__isnull=False), "response_body", values, all_rows=False
    )
    changed += _redact_rows(DeadLetter.objects.all(), "args", values, all_rows=False)
    changed += _redact_rows(DeadLetter.objects.all(), "kwargs", values, all_rows=False)
    return changed


def _addresses(customer: Customer) -> list[str]:
    found = set(ContactIdentity.objects.filter(customer=customer).values_list("address", flat=True))
    found.update(address for address in (customer.email, customer.phone) if address)
    return sorted(found)


def _step_receipts(customer: Customer, values: set[str]) -> int:
    addresses = _addresses(customer)
    receipts = InboundReceipt.objects.filter(
        Q(interaction__customer=customer)
        | Q(message__interaction__customer=customer)
        | Q(sender__in=addresses)
        | Q(participants__overlap=addresses)
    ).exclude(source="erased")
    changed = 0
    for receipt in receipts.only("pk").iterator(chunk_size=CHUNK):
        InboundReceipt.objects.filter(pk=receipt.pk).update(
            raw=None, reason="", sender="", participants=[], key=f"erased:{receipt.pk}", source="erased"
        )
        changed += 1
    return changed


def _step_deliveries(customer: Customer, values: set[str]) -> int:
    return Delivery.objects.filter(message__interaction__customer=customer).exclude(error="").update(error="")


def _step_surveys(customer: Customer, values: set[str]) -> int:
    changed = blank_survey_comments(SurveyResponse.objects.filter(survey__interaction__customer=customer))
    return changed + Survey.objects.filter(interaction__customer=customer).exclude(last_error="").update(last_error="")


def _step_attachments(customer: Customer, values: set[str]) -> int:
    return blank_attachments(Message.objects.filter(interaction__customer=customer))


def _step_messages(customer: Customer, values: set[str]) -> int:
    return blank_message_bodies(Message.objects.filter(interaction__customer=customer), external_ids=True)


def _step_interactions(customer: Customer, values: set[str]) -> int:
    return Interaction.objects.filter(customer=customer).update(subject="", external_id="")


def _step_calls(customer: Customer, values: set[str]) -> int:
    """The caller's number and the recording (a voice); the IVR path's menus and the outcome stay for the reports."""
    calls = Call.objects.filter(interaction__customer=customer)
    return blank_recordings(calls) + calls.exclude(caller="").update(caller="")


def _step_notes(customer: Customer, values: set[str]) -> int:
    return Note.objects.filter(customer=customer).delete()[0]


def _step_identities(customer: Customer, values: set[str]) -> int:
    return ContactIdentity.objects.filter(customer=customer).delete()[0]


def _step_profile(customer: Customer, values: set[str]) -> int:
    return Customer.objects.filter(pk=customer.pk).update(
        name=f"Erased customer {customer.pk}",
        email="",
        phone="",
        organization=None,
        tags=[],
        attributes={},
        marketing_consent=False,
        survey_opt_out=True,
        erased_at=timezone.now(),
    )


STEPS: tuple[tuple[str, Callable[[Customer, set[str]], int]], ...] = (
    ("webhook_payloads", _step_webhook_payloads),
    ("event_data", _step_event_data),
    ("copies", _step_copies),
    ("receipts", _step_receipts),
    ("deliveries", _step_deliveries),
    ("surveys", _step_surveys),
    ("attachments", _step_attachments),
    ("messages", _step_messages),
    ("interactions", _step_interactions),
    ("calls", _step_calls),
    ("notes", _step_notes),
    ("identities", _step_identities),
    ("profile", _step_profile),
)


def erasure_run(*, erasure_id: int, max_steps: int | None = None) -> str:
    """Run the steps not yet recorded (at most ``max_steps``); each step commits with its record."""
    erasure = ErasureRequest.objects.select_related("customer").filter(pk=erasure_id).first()
    if erasure is None or erasure.status in (RequestStatus.DONE, RequestStatus.REFUSED):
        return "skipped"
    if erasure.customer.legal_hold:
        erasure.status = RequestStatus.REFUSED
        erasure.detail = "The customer was put under legal hold: their data may not be erased until it is lifted."
        erasure.save(update_fields=["status", "detail"])
        return "refused"
    ran = 0
    for name, step in STEPS:
        if name in erasure.steps_done:
            continue
        if max_steps is not None and ran >= max_steps:
            return "partial"
        with transaction.atomic():
            locked = ErasureRequest.objects.select_for_update().get(pk=erasure_id)
            if name in locked.steps_done:  # another worker did it meanwhile
                erasure = locked
                continue
            customer = Customer.objects.get(pk=locked.customer_id)
            count = step(customer, _values(customer))
            locked.steps_done = [*locked.steps_done, name]
            locked.counts = {**locked.counts, name: count}
            locked.status = RequestStatus.RUNNING
            locked.save(update_fields=["steps_done", "counts", "status"])
            erasure = locked
        ran += 1
    ErasureRequest.objects.filter(pk=erasure_id).update(status=RequestStatus.DONE, finished_at=timezone.now())
    return "done"


def erasure_due(*, limit: int = 10, now=None) -> int:
    """The beat's sweep: run pending (or interrupted) requests whose grace period is over, a few per run."""
    now = now or timezone.now()
    due = ErasureRequest.objects.filter(
        status__in=[RequestStatus.PENDING, RequestStatus.RUNNING], due_at__lte=now
    ).order_by("due_at")
    ids: Iterable[int] = list(due.values_list("pk", flat=True)[:limit])
    for erasure_id in ids:
        erasure_run(erasure_id=erasure_id)
    return len(ids)
