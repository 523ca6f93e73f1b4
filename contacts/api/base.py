"""Request hardening for the contacts API: any body, however hostile, gets a JSON 4xx, never a 500.

Both belong in ``config/api`` (parser and exception handler) once the lead moves them there.
"""

from django.core.exceptions import RequestDataTooBig
from rest_framework import exceptions, status, viewsets
from rest_framework.parsers import JSONParser


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than the API accepts."
    default_code = "payload_too_large"


class BoundedJSONParser(JSONParser):
    """JSON, where nesting deep enough to exhaust Python's recursion limit is a parse error (400)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None


class ContactsViewSet(viewsets.GenericViewSet):
    parser_classes = [BoundedJSONParser]

    def handle_exception(self, exc):
        # Django raises RequestDataTooBig (over DATA_UPLOAD_MAX_MEMORY_SIZE) as a SuspiciousOperation, which
        # would become an HTML 400; the caller should learn, in JSON, that the body was too big.
        if isinstance(exc, RequestDataTooBig):
            exc = PayloadTooLarge()
        return super().handle_exception(exc)
