"""Addresses (identities) by which inbound contacts find their customer: normalising, adding, removing."""

from collections.abc import Iterable

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..choices import IDENTITY_FOR_CHANNEL, IdentityChannel
from ..models import ContactIdentity, Customer
from ._base import MIRROR_FIELD, duplicate_error


def identity_channel_for(channel: str) -> str:
    """The identity kind for an identity channel name or an interaction channel (voice and sms → phone)."""
    if channel in IdentityChannel.values:
        return channel
    try:
        return IDENTITY_FOR_CHANNEL[channel]
    except (KeyError, TypeError):
        raise ValidationError({"channel": _("Unknown channel '%(channel)s'.") % {"channel": channel}}) from None


def normalize_address(*, channel: str, address: str) -> str:
    """The stored form of an address: lower-case e-mail, E.164 phone number, trimmed handle.

    Raises ``ValidationError`` with an ``address`` message when the address is not valid for the channel.
    """
    kind = identity_channel_for(channel)
    address = (address or "").strip()
    if not address:
        raise ValidationError({"address": _("An address is required.")})
    if "\x00" in address:
        raise ValidationError({"address": _("An address may not contain NUL characters.")})
    if kind == IdentityChannel.EMAIL:
        address = address.lower()
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(
                {"address": _("'%(address)s' is not a valid e-mail address.") % {"address": address}}
            ) from None
        return address
    if kind == IdentityChannel.PHONE:
        try:
            number = phonenumbers.parse(address, settings.SWITCHBOARD_DEFAULT_PHONE_REGION)
        except phonenumbers.NumberParseException:
            raise ValidationError(
                {"address": _("'%(address)s' is not a phone number.") % {"address": address}}
            ) from None
        if not phonenumbers.is_possible_number(number) or not phonenumbers.is_valid_number(number):
            raise ValidationError({"address": _("'%(address)s' is not a valid phone number.") % {"address": address}})
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if len(address) > 254:
        raise ValidationError({"address": _("An address has at most 254 characters.")})
    return address


def identity_add(*, customer: Customer, channel: str, address: str, verified: bool = False) -> ContactIdentity:
    """Give ``customer`` another address. It becomes primary (and the customer's e-mail / phone) when the
    customer has none of its kind yet."""
    kind = identity_channel_for(channel)
    normalized = normalize_address(channel=kind, address=address)
    try:
        with transaction.atomic():
            current = Customer.objects.select_for_update().only("email", "phone").get(pk=customer.pk)
            owner_id = (
                ContactIdentity.objects.filter(channel=kind, address=normalized)
                .values_list("customer_id", flat=True)
                .first()
            )
            if owner_id is not None:
                whose = "this" if owner_id == customer.pk else "another"
                raise duplicate_error({"address": [f"'{normalized}' already belongs to {whose} customer."]})
            mirror = MIRROR_FIELD.get(kind)
            is_primary = mirror is not None and not getattr(current, mirror)
            identity = ContactIdentity.objects.create(
                customer=customer, channel=kind, address=normalized, is_primary=is_primary, verified=bool(verified)
            )
            if is_primary:
                setattr(customer, mirror, normalized)
                customer.save(update_fields=[mirror, "updated_at"])
    except IntegrityError:
        raise duplicate_error({"address": [f"'{normalized}' already belongs to another customer."]}) from None
    return identity


def identity_update(
    *, identity: ContactIdentity, channel: str | None = None, address: str | None = None, verified: bool | None = None
) -> ContactIdentity:
    """Correct an identity's address or channel, or mark it verified; a primary one keeps the mirror in step."""
    try:
        with transaction.atomic():
            customer = Customer.objects.select_for_update().get(pk=identity.customer_id)
            # The stored row, not the caller's instance, which a form may already have changed.
            current = ContactIdentity.objects.get(pk=identity.pk)
            kind = identity_channel_for(channel) if channel is not None else current.channel
            normalized = normalize_address(channel=kind, address=address if address is not None else current.address)
            if ContactIdentity.objects.filter(channel=kind, address=normalized).exclude(pk=identity.pk).exists():
                raise duplicate_error({"address": [f"'{normalized}' already belongs to a customer."]})
            identity.channel, identity.address = kind, normalized
            identity.verified = current.verified if verified is None else bool(verified)
            # A primary identity moved to another kind would compete with that kind's primary: it yields.
            identity.is_primary = current.is_primary and current.channel == kind
            fields = ["channel", "address", "verified", "is_primary"]
            if (kind, normalized) != (current.channel, current.address):  # a corrected address may work again
                identity.undeliverable_at, identity.undeliverable_reason = None, ""
                fields += ["undeliverable_at", "undeliverable_reason"]
            identity.save(update_fields=fields)
            _customer_sync_mirrors(customer=customer, kinds={current.channel, kind})
    except IntegrityError:
        raise duplicate_error({"address": ["This address already belongs to a customer."]}) from None
    return identity


def identity_mark_undeliverable(*, channel: str, address: str, reason: str, at=None) -> int:
    """Record that mail to ``address`` cannot be delivered (a permanent bounce: no such mailbox). Answers how many
    identities were marked (0 when the address belongs to nobody); an address already marked keeps its first time.
    Changing the address (``identity_update``) clears the mark."""
    identities = _identities_at(channel=channel, address=address).filter(undeliverable_at__isnull=True)
    return identities.update(undeliverable_at=at or timezone.now(), undeliverable_reason=reason[:300])


def identity_mark_deliverable(*, channel: str, address: str) -> int:
    """Undo ``identity_mark_undeliverable`` (a text message's START after a STOP). Answers how many were cleared."""
    identities = _identities_at(channel=channel, address=address).filter(undeliverable_at__isnull=False)
    return identities.update(undeliverable_at=None, undeliverable_reason="")


def _identities_at(*, channel: str, address: str):
    """The identities of ``address`` on ``channel`` (none for an address that is not valid there)."""
    kind = identity_channel_for(channel)
    try:
        normalized = normalize_address(channel=kind, address=address)
    except ValidationError:
        return ContactIdentity.objects.none()
    return ContactIdentity.objects.filter(channel=kind, address=normalized)


def identity_remove(*, identity: ContactIdentity) -> None:
    """Remove an address. When it was primary, the oldest other address of its kind takes over (or none)."""
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=identity.customer_id)
        stored = ContactIdentity.objects.filter(pk=identity.pk).values("channel", "is_primary").first()
        if stored is None:  # already removed
            return
        ContactIdentity.objects.filter(pk=identity.pk).delete()
        # Only losing the primary changes the mirror: a customer left without a primary phone on purpose
        # (customer_update with phone="") does not get one back because a secondary number was removed.
        if stored["is_primary"]:
            _customer_sync_mirrors(customer=customer, kinds={stored["channel"]})


def _customer_sync_mirrors(*, customer: Customer, kinds: Iterable[str]) -> None:
    """Make ``customer.email`` / ``phone`` equal their primary identity, promoting the oldest if none is.

    Runs with the customer row locked.
    """
    changed = []
    for kind in kinds:
        mirror = MIRROR_FIELD.get(kind)
        if mirror is None:
            continue
        of_kind = ContactIdentity.objects.filter(customer=customer, channel=kind)
        primary = of_kind.filter(is_primary=True).order_by("created_at", "id").first()
        if primary is None:
            primary = of_kind.order_by("created_at", "id").first()
            if primary is not None:
                primary.is_primary = True
                primary.save(update_fields=["is_primary"])
        address = primary.address if primary is not None else ""
        if getattr(customer, mirror) != address:
            setattr(customer, mirror, address)
            changed.append(mirror)
    if changed:
        customer.save(update_fields=[*changed, "updated_at"])


def _identity_set_primary(*, customer: Customer, kind: str, address: str, field: str) -> None:
    """Make ``address`` the customer's primary identity of ``kind`` (creating it), demoting the previous one."""
    of_kind = ContactIdentity.objects.filter(channel=kind)
    owner_id = None
    if address:
        owner_id = of_kind.filter(address=address).values_list("customer_id", flat=True).first()
        if owner_id is not None and owner_id != customer.pk:
            raise duplicate_error({field: [f"'{address}' already belongs to another customer."]})
    of_kind.filter(customer=customer, is_primary=True).exclude(address=address).update(is_primary=False)
    if not address:
        return
    if owner_id is None:
        ContactIdentity.objects.create(customer=customer, channel=kind, address=address, is_primary=True)
    else:
        of_kind.filter(customer=customer, address=address).update(is_primary=True)
