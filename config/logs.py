"""Structured logs: one JSON object per line when ``LOG_FORMAT=json``, with a request id that follows a request
into the Celery tasks it starts.

The id comes from the caller's ``X-Request-ID`` (a proxy's) when it looks like one, otherwise a new one; it is
sent back in the response's ``X-Request-ID`` and carried in a task message's ``request_id`` header.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime

from celery.signals import before_task_publish, task_postrun, task_prerun

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
actor_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("actor", default=None)
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
access_logger = logging.getLogger("switchboard.access")


class JsonFormatter(logging.Formatter):
    """time, level, logger, message, request id, user or key, and the extra fields a line carries."""

    EXTRA = ("path", "method", "status", "duration_ms", "task")

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id_var.get(),
            "actor": actor_var.get(),
        }
        for field in self.EXTRA:
            if hasattr(record, field):
                line[field] = getattr(record, field)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def _actor(request) -> str | None:
    key = getattr(request, "auth", None) or getattr(getattr(request, "_request", None), "auth", None)
    if getattr(key, "pk", None) is not None and key.__class__.__name__ == "ApiKey":
        return f"key:{key.pk}"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return None


class RequestIdMiddleware:
    """Give every request an id, log one access line per request (path, status, duration, actor)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.META.get("HTTP_X_REQUEST_ID", "")  # (request.headers would copy every header first)
        request_id = given if _VALID_ID.match(given) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        actor_token = actor_var.set(None)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            actor_var.set(_actor(request))
            access_logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                },
            )
            response["X-Request-ID"] = request_id
            return response
        finally:
            request_id_var.reset(token)
            actor_var.reset(actor_token)


@before_task_publish.connect(dispatch_uid="switchboard.logs.publish")
def _carry_request_id(headers=None, **kwargs):
    request_id = request_id_var.get()
    if headers is not None and request_id and "request_id" not in headers:
        headers["request_id"] = request_id


@task_prerun.connect(dispatch_uid="switchboard.logs.prerun")
def _adopt_request_id(task=None, **kwargs):
    request_id = getattr(task.request, "request_id", None) if task is not None else None
    request_id_var.set(request_id)


@task_postrun.connect(dispatch_uid="switchboard.logs.postrun")
def _drop_request_id(**kwargs):
    request_id_var.set(None)
