"""What every contacts API view shares: JSON errors for hostile bodies, and 409 for taken values.

The parser and the two exception mappings belong in ``config/api`` once the lead moves them there.
"""

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status, viewsets
from rest_framework.parsers import JSONParser

from ..services import DUPLICATE


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than the API accepts."
    default_code = "payload_too_large"


class FieldConflict(exceptions.APIException):
    """409 with field messages: the value is well-formed but already taken (an address, a name)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def _only_duplicates(exc: DjangoValidationError) -> bool:
    return hasattr(exc, "error_dict") and all(
        error.code == DUPLICATE for errors in exc.error_dict.values() for error in errors
    )


class BoundedJSONParser(JSONParser):
    """JSON, where nesting deep enough to exhaust Python's recursion limit is a parse error (400)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None


class ContactsViewSet(viewsets.GenericViewSet):
    parser_classes = [BoundedJSONParser]
    # Ids are matched loosely so that any malformed id ("1.5", "abc") is this API's JSON 404, not Django's page.
    lookup_value_regex = "[^/]+"

    def handle_exception(self, exc):
        # Django raises RequestDataTooBig (over DATA_UPLOAD_MAX_MEMORY_SIZE) as a SuspiciousOperation, which
        # would become an HTML 400; the caller should learn, in JSON, that the body was too big.
        if isinstance(exc, RequestDataTooBig):
            exc = PayloadTooLarge()
        # A taken address or name conflicts with existing data, like the unique-constraint race the shared
        # handler already answers with 409; the body keeps the field messages of a validation error.
        elif isinstance(exc, DjangoValidationError) and _only_duplicates(exc):
            exc = FieldConflict(detail=exc.message_dict)
        return super().handle_exception(exc)
