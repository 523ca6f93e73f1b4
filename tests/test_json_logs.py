"""LOG_FORMAT=json: one JSON object per line, with the request id carried into the tasks a request starts."""

import io
import json
import logging
import uuid

import pytest
import redis

from config.celery import app
from config.logs import JsonFormatter, request_id_var
from config.outbound import RedactUrlsFilter
from tests.crm.inboxes.factories import InboxFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def test_a_request_logs_one_json_line_with_its_id_path_status_and_duration(client, json_lines):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="req-abc-123")

    assert response["X-Request-ID"] == "req-abc-123"
    access = [line for line in json_lines() if line["logger"] == "switchboard.access"]
    assert len(access) == 1
    line = access[0]
    assert line["request_id"] == "req-abc-123"
    assert line["path"] == "/healthz" and line["status"] == 200 and line["method"] == "GET"
    assert line["duration_ms"] >= 0 and line["level"] == "INFO" and line["time"].endswith("+00:00")


def test_a_malformed_request_id_is_replaced(client, json_lines):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert response["X-Request-ID"] != "bad id\nwith newline"
    assert len(response["X-Request-ID"]) == 32


def test_the_request_id_travels_in_the_task_message(settings):
    queue = f"test-logs-{uuid.uuid4().hex[:12]}"
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    token = request_id_var.set("req-into-task")
    try:
        app.send_task("crm.tasks.idempotency_purge_task", queue=queue)
    finally:
        request_id_var.reset(token)
    try:
        raw = broker.brpop(queue, timeout=5)
        assert raw, "the task message was not published"
        assert json.loads(raw[1])["headers"]["request_id"] == "req-into-task"
    finally:
        broker.delete(queue)


def test_a_running_task_logs_with_the_request_id_of_its_message(json_lines):
    from celery.signals import task_postrun, task_prerun

    task = app.tasks["crm.tasks.idempotency_purge_task"]
    task.push_request(request_id="req-in-worker")
    try:
        task_prerun.send(sender=task, task_id="t1", task=task, args=(), kwargs={})
        logging.getLogger("crm.tasks").warning("purging")
        task_postrun.send(sender=task, task_id="t1", task=task, args=(), kwargs={}, retval=0, state="SUCCESS")
    finally:
        task.pop_request()
    line = next(line for line in json_lines() if line["message"] == "purging")
    assert line["request_id"] == "req-in-worker"
    assert request_id_var.get() is None


@pytest.fixture
def console_lines():
    """What the configured console handler (with its filters) writes, one string per line."""
    handler = next(h for h in logging.getLogger().handlers if any(isinstance(f, RedactUrlsFilter) for f in h.filters))
    stream = io.StringIO()
    previous = handler.setStream(stream)
    previous_formatter = handler.formatter
    handler.setFormatter(JsonFormatter())
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    handler.setStream(previous)
    handler.setFormatter(previous_formatter)


def test_an_inboxs_secret_token_never_reaches_the_logs(client, console_lines):
    """The raw-MIME endpoint's URL holds the inbox's token: the access line and Django's own "Not Found" line show
    the path with the token replaced, for a stored mail and for a wrong token alike."""
    inbox = InboxFactory()
    mail = (
        b"From: ada@example.com\r\nTo: support@example.com\r\nSubject: Hi\r\nMessage-ID: <a1@example.com>\r\n\r\nHello"
    )
    stored = client.post(f"/inbound/email/{inbox.token}/", data=mail, content_type="message/rfc822")
    wrong = client.post("/inbound/email/not-a-real-token-42/", data=mail, content_type="message/rfc822")
    survey = client.get("/s/survey-link-secret-77/")

    assert stored.status_code == 201 and wrong.status_code == 404 and survey.status_code == 404
    lines = console_lines()
    written = json.dumps(lines)
    for secret in (inbox.token, "not-a-real-token-42", "survey-link-secret-77"):
        assert secret not in written
    paths = [line["path"] for line in lines if line["logger"] == "switchboard.access"]
    assert paths == ["/inbound/email/REDACTED/", "/inbound/email/REDACTED/", "/s/REDACTED/"]
    assert any(line["logger"] == "django.request" and "/inbound/email/REDACTED/" in line["message"] for line in lines)
