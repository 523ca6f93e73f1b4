"""Validation shared by services, admin forms and API serializers, so every door enforces the same rules."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from config.choices import Channel

MIN_CAPACITY, MAX_CAPACITY = 0, 50


def validate_capacity(value) -> dict[str, int]:
    """Check a per-channel capacity map (``{"voice": 1, "chat": 3}``) and return it; raise a ValidationError.

    Keys are channels of ``config.choices.Channel``; values whole numbers from 0 to 50. Booleans are refused
    although Python counts them as integers: ``{"chat": true}`` is a client bug, not a capacity of one.
    """
    if not isinstance(value, dict):
        raise ValidationError(_('Capacity must be an object mapping channels to numbers, e.g. {"chat": 3}.'))
    errors = []
    for channel, amount in value.items():
        if channel not in Channel.values:
            errors.append(f"Unknown channel '{channel}'; channels are {', '.join(Channel.values)}.")
        elif isinstance(amount, bool) or not isinstance(amount, int):
            errors.append(f"Capacity for '{channel}' must be a whole number.")
        elif not MIN_CAPACITY <= amount <= MAX_CAPACITY:
            errors.append(f"Capacity for '{channel}' must be between {MIN_CAPACITY} and {MAX_CAPACITY}.")
    if errors:
        raise ValidationError(errors)
    return dict(value)
