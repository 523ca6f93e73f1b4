"""One JSON error shape for the whole API.

DRF already answers validation errors with field messages (``{"field": ["message"]}``) and other
errors with ``{"detail": "..."}``; this handler adds the HTTP status code and a machine-readable
``code`` to the latter, and maps what would otherwise be a 500 or an HTML page to a JSON 4xx:

- a service's ``DomainError`` / ``IllegalTransition`` → 409 with its message (``NotAllowed``: 403);
- a Django ``ValidationError`` → 400 with field messages, or 409 when every message says a value is
  already taken (code ``config.errors.DUPLICATE``: an address, a name) — like the constraint race below;
- ``IntegrityError`` (a unique constraint lost to a concurrent write) → 409;
- ``RequestDataTooBig`` (a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``, which Django raises while DRF reads the
  body and would answer with an HTML 400) → 413;
- Django's ``Http404`` / ``PermissionDenied`` → DRF's 404 / 403.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.errors import DUPLICATE, DomainError, NotAllowed


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request cannot be processed."
    default_code = "unprocessable"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than the API accepts."
    default_code = "payload_too_large"


def _django_validation_detail(exc: DjangoValidationError):
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for e in errors for m in e.messages] for field, errors in exc.error_dict.items()}
    return {"detail": exc.messages[0] if len(exc.messages) == 1 else exc.messages}


def _only_duplicates(exc: DjangoValidationError) -> bool:
    return hasattr(exc, "error_dict") and all(
        error.code == DUPLICATE for errors in exc.error_dict.values() for error in errors
    )


def to_api_exception(exc: Exception) -> Exception:
    """The DRF exception a Django or service error stands for (others are returned unchanged)."""
    if isinstance(exc, NotAllowed):
        return exceptions.PermissionDenied(detail=str(exc), code=exc.code)
    if isinstance(exc, DomainError):
        return Conflict(detail=str(exc), code=getattr(exc, "code", "conflict"))
    if isinstance(exc, DjangoValidationError):
        if _only_duplicates(exc):
            conflict = Conflict()
            conflict.detail = exceptions.ValidationError(_django_validation_detail(exc)).detail
            return conflict
        return exceptions.ValidationError(detail=_django_validation_detail(exc))
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge(f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.")
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, IntegrityError):
        return Conflict(detail="The change conflicts with existing data (a concurrent or duplicate write).")
    return exc


def exception_handler(exc, context):
    exc = to_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(response.data, dict) and set(response.data) == {"detail"}:
        code = getattr(response.data["detail"], "code", None) or getattr(exc, "default_code", "error")
        response.data = {"detail": str(response.data["detail"]), "code": code, "status": response.status_code}
    return Response(response.data, status=response.status_code, headers=dict(response.headers.items()))
