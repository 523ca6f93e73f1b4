"""Notes agents keep on customers."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ..models import Customer, Note


def note_create(*, customer: Customer, author=None, body: str) -> Note:
    """Keep a note on a customer. ``author`` is the user writing it (none for an integration's API key)."""
    body = (body or "").strip()
    limit = settings.SWITCHBOARD_MAX_MESSAGE_LENGTH
    if not body:
        raise ValidationError({"body": _("A note needs some text.")})
    if len(body) > limit:
        raise ValidationError({"body": _("A note has at most %(limit)s characters.") % {"limit": limit}})
    if "\x00" in body:
        raise ValidationError({"body": _("A note may not contain NUL characters.")})
    with transaction.atomic():
        return Note.objects.create(customer=customer, author=author, body=body)
