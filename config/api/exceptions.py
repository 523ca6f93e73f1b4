"""One JSON error shape for the whole API.

DRF already answers validation errors with field messages (``{"field": ["message"]}``) and other
errors with ``{"detail": "..."}``; this handler adds the HTTP status code and a machine-readable
``code`` to the latter, maps Django's own errors (a missing object, a database constraint raised
by a race) to 4xx instead of 500, and turns a service's domain error into a 409.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request cannot be processed."
    default_code = "unprocessable"


def _django_validation_detail(exc: DjangoValidationError):
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for e in errors for m in e.messages] for field, errors in exc.error_dict.items()}
    return {"detail": exc.messages[0] if len(exc.messages) == 1 else exc.messages}


def exception_handler(exc, context):
    from config.errors import DomainError

    if isinstance(exc, DomainError):
        exc = Conflict(detail=str(exc), code=getattr(exc, "code", "conflict"))
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=_django_validation_detail(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, IntegrityError):
        exc = Conflict(detail="The change conflicts with existing data (a concurrent or duplicate write).")

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(response.data, dict) and "detail" in response.data:
        code = getattr(response.data["detail"], "code", None) or getattr(exc, "default_code", "error")
        response.data = {"detail": str(response.data["detail"]), "code": code, "status": response.status_code}
    return Response(response.data, status=response.status_code, headers=dict(response.headers.items()))
