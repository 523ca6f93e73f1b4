"""Plumbing the set-up views share: JSON errors for hostile input, 409 for taken names, strict paging.

Other apps carry near-identical pieces (contacts/api/base.py); they belong in ``config/api`` once merged.
"""

import re

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser

from config.api.pagination import CursorPagination

from ...services.queues import DUPLICATE


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class FieldConflict(exceptions.APIException):
    """409 with field messages: the value is well-formed but already taken (a queue's or a policy's name)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def only_duplicates(exc: DjangoValidationError) -> bool:
    return hasattr(exc, "error_dict") and all(
        error.code == DUPLICATE for errors in exc.error_dict.values() for error in errors
    )


class BoundedJSONParser(JSONParser):
    """JSON where nesting deep enough to exhaust Python's recursion limit is a parse error (400), not a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None


class StrictCursorPagination(CursorPagination):
    """The shared cursor pagination, strict about ``page_size``: outside 1..max it is a 400, as the schema says.

    (DRF's own falls back to the default size on a bad value, so ``page_size=false`` would look accepted.)
    """

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not re.fullmatch(r"[0-9]{1,6}", raw) or not 1 <= int(raw) <= self.max_page_size:
            raise exceptions.ValidationError(
                {self.page_size_query_param: [f"Give a whole number from 1 to {self.max_page_size}."]}
            )
        return int(raw)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return parameters
