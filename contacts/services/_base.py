"""What the contacts services share."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError

from ..choices import IdentityChannel

# The Customer field that mirrors the primary identity of a kind.
MIRROR_FIELD = {IdentityChannel.EMAIL: "email", IdentityChannel.PHONE: "phone"}


class _Errors:
    """Collects field messages so one response reports every bad field, not only the first."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, field: str, messages: Iterable[str] | str) -> None:
        self.by_field.setdefault(field, []).extend([messages] if isinstance(messages, str) else messages)

    def clean(self, field: str, cleaner, value):
        try:
            return cleaner(value)
        except ValidationError as exc:
            self.add(field, exc.messages)
            return None

    def raise_if_any(self) -> None:
        if self.by_field:
            raise ValidationError(self.by_field)


# The code of a ValidationError saying a value is already taken (an address, an organization name):
# a conflict with existing data, which the API answers with 409 and the field's message.
from config.errors import DUPLICATE  # noqa: E402,F401  (the code the API maps to 409)


def duplicate_error(errors: dict[str, list[str]]) -> ValidationError:
    """A ValidationError whose messages all carry the ``duplicate`` code."""
    return ValidationError(
        {
            field: [ValidationError(message, code=DUPLICATE) for message in messages]
            for field, messages in errors.items()
        }
    )
