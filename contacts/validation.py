"""Checks and canonical forms for customer and organization values.

Shared by the services (the last word) and the admin forms (so a bad value is a form error, not a 500).
Each ``clean_*`` returns the stored form of the value or raises ``ValidationError`` with a plain message;
callers key the message by the field they are cleaning.
"""

import json
import re
import zoneinfo
from collections.abc import Iterable
from functools import cache

from django.core.exceptions import ValidationError
from django.core.validators import DomainNameValidator
from django.utils.translation import gettext as _

MAX_NAME_LENGTH = 200
MAX_TAGS = 50
MAX_TAG_LENGTH = 50
MAX_ATTRIBUTES_BYTES = 16 * 1024

# language[-Script][-REGION]: "en", "pt-BR", "zh-Hant-TW", "es-419". Private-use and variant subtags are not
# needed by any channel we send on, so a short, strict form keeps typos ("englsh") out.
# What the API schema advertises (any case, "-" or "_"); clean_language() gives the canonical form.
LANGUAGE_PATTERN = r"^[A-Za-z]{2,3}([-_][A-Za-z]{4})?([-_]([A-Za-z]{2}|[0-9]{3}))?$"
_LANGUAGE_RE = re.compile(r"^(?P<lang>[a-z]{2,3})(?:-(?P<script>[a-z]{4}))?(?:-(?P<region>[a-z]{2}|[0-9]{3}))?$")
_domain_validator = DomainNameValidator(accept_idna=False)
# What the API schema advertises for an organization's domain (an optional leading "@" is dropped).
DOMAIN_PATTERN = r"^(@?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})?$"


@cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def clean_name(value: str, *, what: str = "A name") -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError(_("%(what)s is required.") % {"what": what})
    if len(value) > MAX_NAME_LENGTH:
        raise ValidationError(
            _("%(what)s has at most %(MAX_NAME_LENGTH)s characters.")
            % {"what": what, "MAX_NAME_LENGTH": MAX_NAME_LENGTH}
        )
    return value


def clean_language(value: str) -> str:
    """A BCP 47 short code in canonical case: ``EN_us`` → ``en-US``."""
    match = _LANGUAGE_RE.match((value or "").strip().replace("_", "-").lower())
    if match is None:
        raise ValidationError(
            _("'%(value)s' is not a language code such as 'en', 'pt-BR' or 'zh-Hant-TW'.") % {"value": value}
        )
    parts = [match["lang"]]
    if match["script"]:
        parts.append(match["script"].title())
    if match["region"]:
        parts.append(match["region"].upper())
    return "-".join(parts)


def clean_timezone(value: str) -> str:
    value = (value or "").strip()
    if value not in _timezones():
        raise ValidationError(
            _("'%(value)s' is not an IANA time zone such as 'Europe/Paris' or 'UTC'.") % {"value": value}
        )
    return value


def clean_tags(value: Iterable[str]) -> list[str]:
    """Trimmed tags without blanks and repeats (the first occurrence wins, order is kept)."""
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError(_("Tags are a list of strings."))
    tags: list[str] = []
    for tag in value:
        if not isinstance(tag, str):
            raise ValidationError(_("Each tag is a string."))
        tag = tag.strip()
        if not tag:
            continue
        if len(tag) > MAX_TAG_LENGTH:
            raise ValidationError(
                _("A tag has at most %(MAX_TAG_LENGTH)s characters ('%(value)s…' is longer).")
                % {"MAX_TAG_LENGTH": MAX_TAG_LENGTH, "value": tag[:20]}
            )
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise ValidationError(_("A customer has at most %(MAX_TAGS)s tags.") % {"MAX_TAGS": MAX_TAGS})
    return tags


def clean_attributes(value) -> dict:
    """A JSON object of at most 16 KB (UTF-8), storable by PostgreSQL's jsonb (no NUL, no lone surrogates)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError(_("Attributes are a JSON object."))
    try:
        encoded = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError, RecursionError):
        raise ValidationError(_("Attributes must be plain JSON text, numbers, booleans, lists and objects.")) from None
    if len(encoded) > MAX_ATTRIBUTES_BYTES:
        raise ValidationError(
            _("Attributes take at most %(value)s KB as JSON.") % {"value": MAX_ATTRIBUTES_BYTES // 1024}
        )
    # jsonb cannot store U+0000 (PostgreSQL rejects it), so refuse it here rather than fail on save.
    if _contains_nul(value):
        raise ValidationError(_("Attributes may not contain NUL characters."))
    return value


def _contains_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_contains_nul(v) for v in value)
    return False


def clean_domain(value: str) -> str:
    """An e-mail domain in lower case, without a leading ``@``; empty is allowed."""
    value = (value or "").strip().lower().removeprefix("@")
    if not value:
        return ""
    if len(value) > 200:
        raise ValidationError(_("A domain has at most 200 characters."))
    try:
        _domain_validator(value)
    except ValidationError:
        raise ValidationError(_("'%(value)s' is not a domain name such as 'example.com'.") % {"value": value}) from None
    return value
