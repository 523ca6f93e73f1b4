"""Actions that change customers and their identities."""

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from .choices import IDENTITY_FOR_CHANNEL, IdentityChannel
from .models import ContactIdentity, Customer


def identity_channel_for(channel: str) -> str:
    """The identity kind for an identity channel name or an interaction channel (voice and sms → phone)."""
    if channel in IdentityChannel.values:
        return channel
    try:
        return IDENTITY_FOR_CHANNEL[channel]
    except KeyError:
        raise ValidationError({"channel": f"Unknown channel '{channel}'."}) from None


def normalize_address(*, channel: str, address: str) -> str:
    """The stored form of an address: lower-case e-mail, E.164 phone number, trimmed handle.

    Raises ``ValidationError`` with an ``address`` message when the address is not valid for the channel.
    """
    kind = identity_channel_for(channel)
    address = (address or "").strip()
    if not address:
        raise ValidationError({"address": "An address is required."})
    if kind == IdentityChannel.EMAIL:
        address = address.lower()
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError({"address": f"'{address}' is not a valid e-mail address."}) from None
        return address
    if kind == IdentityChannel.PHONE:
        try:
            number = phonenumbers.parse(address, settings.SWITCHBOARD_DEFAULT_PHONE_REGION)
        except phonenumbers.NumberParseException:
            raise ValidationError({"address": f"'{address}' is not a phone number."}) from None
        if not phonenumbers.is_possible_number(number) or not phonenumbers.is_valid_number(number):
            raise ValidationError({"address": f"'{address}' is not a valid phone number."})
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if len(address) > 254:
        raise ValidationError({"address": "An address has at most 254 characters."})
    return address


def customer_find_or_create_by_identity(*, channel: str, address: str, name: str = "") -> tuple[Customer, bool]:
    """The customer who owns ``address`` on ``channel``, created with that identity if nobody does.

    Safe under concurrency: two simultaneous first contacts from one address make one customer
    (the unique (channel, address) constraint decides; the loser re-reads the winner's row).
    """
    kind = identity_channel_for(channel)
    normalized = normalize_address(channel=kind, address=address)
    identity = ContactIdentity.objects.select_related("customer").filter(channel=kind, address=normalized).first()
    if identity is not None:
        return identity.customer, False
    try:
        with transaction.atomic():
            customer = Customer.objects.create(
                name=(name or "").strip()[:200] or normalized,
                email=normalized if kind == IdentityChannel.EMAIL else "",
                phone=normalized if kind == IdentityChannel.PHONE else "",
            )
            ContactIdentity.objects.create(customer=customer, channel=kind, address=normalized, is_primary=True)
    except IntegrityError:
        identity = ContactIdentity.objects.select_related("customer").get(channel=kind, address=normalized)
        return identity.customer, False
    return customer, True
