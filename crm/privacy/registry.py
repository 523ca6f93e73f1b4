"""Where a customer's data lives: every model with a foreign-key path to ``Customer``, and that path.

The exporter writes one JSON file per entry; ``tests/crm/privacy/test_registry.py`` walks ``apps.get_models()``
and fails when a model that reaches ``Customer`` is missing here, so a new table cannot silently escape an
export. ``None`` as the file name marks a model deliberately left out of the archive, with the reason beside it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    label: str  # app_label.ModelName
    lookup: str  # the ORM path from that model to the customer's id
    file: str | None  # the archive's file, or None: not exported (see ``why``)
    exclude: tuple[str, ...] = ()  # columns left out of the file (secrets, raw bytes)
    why: str = ""


SECTIONS: tuple[Section, ...] = (
    Section("contacts.Customer", "pk", "profile.json"),
    Section("contacts.ContactIdentity", "customer_id", "identities.json"),
    Section("contacts.Note", "customer_id", "notes.json"),
    Section("contacts.ConsentRecord", "customer_id", "consent_history.json"),
    Section("crm.Interaction", "customer_id", "interactions.json"),
    Section("crm.Message", "interaction__customer_id", "messages.json"),
    Section("crm.InteractionEvent", "interaction__customer_id", "events.json"),
    Section("crm.Assignment", "interaction__customer_id", "assignments.json"),
    Section("crm.Survey", "interaction__customer_id", "surveys.json", exclude=("token",)),
    Section("crm.SurveyResponse", "survey__interaction__customer_id", "survey_answers.json"),
    Section("crm.Escalation", "interaction__customer_id", "escalations.json"),
    Section("crm.Call", "interaction__customer_id", "calls.json"),
    Section("crm.Delivery", "message__interaction__customer_id", "deliveries.json"),
    Section("crm.InboundReceipt", "interaction__customer_id", "inbound_receipts.json", exclude=("raw",)),
    Section(
        "crm.Review",
        "interaction__customer_id",
        None,
        why="an agent's quality review: personal data of the agent, not of the customer",
    ),
    Section("crm.ReviewScore", "review__interaction__customer_id", None, why="scores of a review (see crm.Review)"),
    Section("crm.ExportRequest", "customer_id", None, why="the request itself, not data about the person"),
    Section("crm.ErasureRequest", "customer_id", None, why="the request itself, not data about the person"),
)

BY_LABEL = {section.label: section for section in SECTIONS}
