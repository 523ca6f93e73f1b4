"""Creating, changing and deleting customers, and finding them by an inbound address."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, Q
from django.utils.translation import gettext as _

from config.errors import DomainError

from .. import validation
from ..choices import IdentityChannel, Tier
from ..models import ConsentRecord, ContactIdentity, Customer, Organization
from ._base import MIRROR_FIELD, _Errors, duplicate_error
from .identities import _identity_set_primary, identity_channel_for, normalize_address

CUSTOMER_FIELDS = frozenset(
    {
        "name",
        "email",
        "phone",
        "organization",
        "language",
        "timezone",
        "tier",
        "tags",
        "attributes",
        "survey_opt_out",
        "marketing_consent",
        "recording_consent",
    }
)


@dataclass
class _WantedIdentity:
    field: str  # the caller's field the address came from, for error messages
    is_primary: bool
    verified: bool = False


def _clean_tier(value: str) -> str:
    if value not in Tier.values:
        raise ValidationError(
            _("'%(value)s' is not a tier; choose one of %(join)s.") % {"value": value, "join": ", ".join(Tier.values)}
        )
    return value


def _clean_organization(value: Organization | None) -> Organization | None:
    if value is not None and (not isinstance(value, Organization) or value.pk is None):
        raise ValidationError(_("Not a saved organization."))
    return value


_PROFILE_CLEANERS = {
    "name": validation.clean_name,
    "organization": _clean_organization,
    "language": validation.clean_language,
    "timezone": validation.clean_timezone,
    "tier": _clean_tier,
    "tags": validation.clean_tags,
    "attributes": validation.clean_attributes,
    "survey_opt_out": bool,
    "marketing_consent": bool,
    "recording_consent": bool,
}


def _clean_profile(errors: _Errors, fields: Mapping) -> dict:
    """The profile values (all but email and phone) in stored form."""
    return {
        name: errors.clean(name, _PROFILE_CLEANERS[name], value)
        for name, value in fields.items()
        if name in _PROFILE_CLEANERS
    }


def _clean_primary(errors: _Errors, *, field: str, value: str | None) -> str:
    """A primary e-mail / phone in stored form; empty means none."""
    if value is None or not str(value).strip():
        return ""
    kind = IdentityChannel.EMAIL if field == "email" else IdentityChannel.PHONE
    try:
        return normalize_address(channel=kind, address=str(value))
    except ValidationError as exc:
        errors.add(field, exc.messages)
        return ""


def _addresses_owned_by_others(
    keys: Iterable[tuple[str, str]], *, customer_id: int | None = None
) -> set[tuple[str, str]]:
    condition = Q()
    for kind, address in keys:
        condition |= Q(channel=kind, address=address)
    if not condition:
        return set()
    owned = ContactIdentity.objects.filter(condition)
    if customer_id is not None:
        owned = owned.exclude(customer_id=customer_id)
    return set(owned.values_list("channel", "address"))


def _taken_error(wanted: Mapping[tuple[str, str], _WantedIdentity], taken: set[tuple[str, str]]) -> ValidationError:
    errors = _Errors()
    for kind, address in sorted(taken):
        errors.add(wanted[(kind, address)].field, f"'{address}' already belongs to another customer.")
    return duplicate_error(errors.by_field)


def customer_create(
    *,
    name: str,
    email: str = "",
    phone: str = "",
    organization: Organization | None = None,
    language: str = "en",
    timezone: str = "UTC",
    tier: str = Tier.STANDARD,
    tags: Iterable[str] = (),
    attributes: dict | None = None,
    survey_opt_out: bool = False,
    marketing_consent: bool = False,
    recording_consent: bool = True,
    identities: Iterable[Mapping] = (),
    consent_source: str = "staff",
) -> Customer:
    """Create a customer with their identities: the primary e-mail and phone, and ``identities``
    (``{"channel", "address", "verified"}`` mappings; the first e-mail / phone among them becomes primary
    when ``email`` / ``phone`` is not given).

    Every address is normalised; one that belongs to another customer is an error on the field it came from.
    A consent other than the default (surveys and recording allowed, marketing not) is recorded with its source.
    """
    errors = _Errors()
    profile = _clean_profile(
        errors,
        {
            "name": name,
            "organization": organization,
            "language": language,
            "timezone": timezone,
            "tier": tier,
            "tags": tags,
            "attributes": attributes,
            "survey_opt_out": survey_opt_out,
            "marketing_consent": marketing_consent,
            "recording_consent": recording_consent,
        },
    )
    primaries = {
        "email": _clean_primary(errors, field="email", value=email),
        "phone": _clean_primary(errors, field="phone", value=phone),
    }
    wanted: dict[tuple[str, str], _WantedIdentity] = {}
    for kind, field in MIRROR_FIELD.items():
        if primaries[field]:
            wanted[(kind, primaries[field])] = _WantedIdentity(field=field, is_primary=True)
    for position, spec in enumerate(identities, start=1):
        try:
            kind = identity_channel_for(spec.get("channel"))
            address = normalize_address(channel=kind, address=spec.get("address"))
        except (ValidationError, AttributeError, TypeError) as exc:
            messages = exc.messages if isinstance(exc, ValidationError) else ["not a channel and address"]
            errors.add("identities", [f"identity {position}: {m}" for m in messages])
            continue
        verified = bool(spec.get("verified", False))
        if (kind, address) in wanted:  # the primary address listed again, maybe to mark it verified
            wanted[(kind, address)].verified |= verified
            continue
        mirror = MIRROR_FIELD.get(kind)
        is_primary = mirror is not None and not primaries[mirror]
        if is_primary:
            primaries[mirror] = address
        wanted[(kind, address)] = _WantedIdentity(field="identities", is_primary=is_primary, verified=verified)
    errors.raise_if_any()
    if taken := _addresses_owned_by_others(wanted):
        raise _taken_error(wanted, taken)

    try:
        with transaction.atomic():
            customer = Customer.objects.create(**profile, **primaries)
            ContactIdentity.objects.bulk_create(
                ContactIdentity(
                    customer=customer, channel=kind, address=address, is_primary=spec.is_primary, verified=spec.verified
                )
                for (kind, address), spec in wanted.items()
            )
            _record_consents(customer, _CONSENT_DEFAULTS, consent_source)
    except IntegrityError:
        # A concurrent write took one of the addresses between our check and our insert.
        if taken := _addresses_owned_by_others(wanted):
            raise _taken_error(wanted, taken) from None
        raise
    return customer


_CONSENT_FIELDS = {
    "survey_opt_out": ("surveys", False),
    "marketing_consent": ("marketing", True),
    "recording_consent": ("recording", True),
}


_CONSENT_DEFAULTS = {"survey_opt_out": False, "marketing_consent": False, "recording_consent": True}


def _record_consents(customer: Customer, before: dict, source: str) -> None:
    """Append a consent record for each consent flag that changed (the history of who allowed what, when)."""
    for field, (kind, means_granted) in _CONSENT_FIELDS.items():
        value = getattr(customer, field)
        if field in before and before[field] != value:
            ConsentRecord.objects.create(
                customer=customer, kind=kind, granted=value == means_granted, source=source[:40]
            )


def customer_update(*, customer: Customer, consent_source: str = "staff", **fields) -> Customer:
    """Change the given fields of ``customer``; a new ``email`` / ``phone`` becomes the primary identity.

    The previous primary address stays as a secondary identity, so a customer still writing from it is
    still recognised (remove it explicitly with ``identity_remove``). An empty ``email`` / ``phone`` leaves
    the customer without a primary address of that kind.
    """
    unknown = set(fields) - CUSTOMER_FIELDS
    if unknown:
        raise TypeError(f"customer_update() got unknown fields: {', '.join(sorted(unknown))}")
    errors = _Errors()
    cleaned = _clean_profile(errors, fields)
    for field in ("email", "phone"):
        if field in fields:
            cleaned[field] = _clean_primary(errors, field=field, value=fields[field])
    errors.raise_if_any()
    if not cleaned:
        return customer

    try:
        with transaction.atomic():
            # The row lock serialises concurrent changes of the primaries of one customer.
            current = Customer.objects.select_for_update().only("email", "phone", *_CONSENT_FIELDS).get(pk=customer.pk)
            before = {field: getattr(current, field) for field in _CONSENT_FIELDS}
            for kind, field in MIRROR_FIELD.items():
                if field in cleaned and cleaned[field] != getattr(current, field):
                    _identity_set_primary(customer=customer, kind=kind, address=cleaned[field], field=field)
            for name, value in cleaned.items():
                setattr(customer, name, value)
            customer.save(update_fields=[*cleaned, "updated_at"])
            _record_consents(customer, before, consent_source)
    except IntegrityError:
        wanted = {
            (kind, cleaned[field]): _WantedIdentity(field=field, is_primary=True)
            for kind, field in MIRROR_FIELD.items()
            if cleaned.get(field)
        }
        if taken := _addresses_owned_by_others(wanted, customer_id=customer.pk):
            raise _taken_error(wanted, taken) from None
        raise
    return customer


def customer_delete(*, customer: Customer) -> None:
    """Delete a customer with their identities and notes; refused while interactions refer to them."""
    try:
        with transaction.atomic():
            customer.delete()
    except ProtectedError:
        # Interaction.customer is PROTECT: the history of the center is not erased with a contact record.
        raise DomainError(
            _("This customer has interactions and cannot be deleted."), code="customer_has_interactions"
        ) from None
