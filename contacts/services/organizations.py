"""Organizations (B2B accounts) customers belong to."""

from collections.abc import Mapping

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from .. import validation
from ..models import Organization
from ._base import _Errors, duplicate_error

ORGANIZATION_FIELDS = frozenset({"name", "domain", "notes"})
MAX_NOTES_LENGTH = 10_000


def _clean_organization_fields(fields: Mapping, *, organization: Organization | None = None) -> dict:
    errors = _Errors()
    cleaned = {}
    if "name" in fields:
        cleaned["name"] = errors.clean("name", lambda v: validation.clean_name(v, what="A name"), fields["name"])
    if "domain" in fields:
        cleaned["domain"] = errors.clean("domain", validation.clean_domain, fields["domain"])
    if "notes" in fields:
        notes = fields["notes"] or ""
        if "\x00" in notes:
            errors.add("notes", "Notes may not contain NUL characters.")
        if len(notes) > MAX_NOTES_LENGTH:
            errors.add("notes", f"Notes have at most {MAX_NOTES_LENGTH} characters.")
        cleaned["notes"] = notes
    errors.raise_if_any()
    if cleaned.get("name") and _organization_name_taken(cleaned["name"], organization=organization):
        raise duplicate_error({"name": [f"An organization named '{cleaned['name']}' already exists."]})
    return cleaned


def _organization_name_taken(name: str, *, organization: Organization | None) -> bool:
    same_name = Organization.objects.annotate(lower_name=Lower("name")).filter(lower_name=name.lower())
    if organization is not None:
        same_name = same_name.exclude(pk=organization.pk)
    return same_name.exists()


def organization_create(*, name: str, domain: str = "", notes: str = "") -> Organization:
    """Create an organization; names are unique regardless of case."""
    cleaned = _clean_organization_fields({"name": name, "domain": domain, "notes": notes})
    try:
        with transaction.atomic():
            return Organization.objects.create(**cleaned)
    except IntegrityError:
        raise duplicate_error({"name": [f"An organization named '{cleaned['name']}' already exists."]}) from None


def organization_update(*, organization: Organization, **fields) -> Organization:
    """Change the given fields (``name``, ``domain``, ``notes``) of an organization."""
    unknown = set(fields) - ORGANIZATION_FIELDS
    if unknown:
        raise TypeError(f"organization_update() got unknown fields: {', '.join(sorted(unknown))}")
    cleaned = _clean_organization_fields(fields, organization=organization)
    if not cleaned:
        return organization
    for name, value in cleaned.items():
        setattr(organization, name, value)
    try:
        with transaction.atomic():
            organization.save(update_fields=[*cleaned, "updated_at"])
    except IntegrityError:
        raise duplicate_error({"name": [f"An organization named '{organization.name}' already exists."]}) from None
    return organization


def organization_delete(*, organization: Organization) -> None:
    """Delete an organization; its customers stay, without an organization."""
    with transaction.atomic():
        organization.delete()
