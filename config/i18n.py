"""The language a customer is written to in: their `language` (BCP 47, e.g. "de-AT") reduced to one this
installation speaks (settings.LANGUAGES), else the default. Used with ``translation.override`` by surveys and
e-mails, which are sent outside any request (a Celery task) or to a browser that is not the customer's own."""

from django.conf import settings
from django.utils import translation


def supported_language(code: str | None) -> str:
    try:
        return translation.get_supported_language_variant((code or "").strip().replace("_", "-").lower())
    except LookupError:
        return settings.LANGUAGE_CODE


def customer_language(customer) -> str:
    return supported_language(getattr(customer, "language", None))
