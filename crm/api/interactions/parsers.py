"""A JSON parser that enforces the request-size limit.

DRF reads the body as a stream, which bypasses Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` check (and
where Django does check, it raises ``RequestDataTooBig``, which becomes an HTML 400). This parser
answers a JSON 413 instead, whether or not the client sent a Content-Length.
"""

import io

from django.conf import settings
from rest_framework import exceptions, parsers, status


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class LimitedJSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is None:
            return super().parse(stream, media_type, parser_context)
        too_large = PayloadTooLarge(f"The request body is larger than the limit of {limit} bytes.")
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise too_large
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise too_large
        return super().parse(io.BytesIO(raw), media_type, parser_context)
