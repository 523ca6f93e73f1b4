"""Webhooks against hostile or careless receivers: huge answers, private addresses dressed as IPv6, credentials."""

import http.server
import logging
import threading
import tracemalloc

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from crm.choices import WebhookDeliveryStatus
from crm.webhooks.admin import WebhookAdminForm
from crm.webhooks.models import Webhook, WebhookAttempt
from crm.webhooks.services import webhook_check_url, webhook_deliver
from tests.agents.factories import UserFactory
from tests.crm.factories import WebhookDeliveryFactory, WebhookFactory

pytestmark = pytest.mark.django_db

D = WebhookDeliveryStatus
MiB = 1024 * 1024


class HugeAnswer:
    """A receiver on 127.0.0.1 that answers every POST with ``size`` bytes of "x", written 64 KiB at a time."""

    def __init__(self, *, status: int, size: int):
        self.sent = 0
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(status)
                self.send_header("Content-Length", str(size))
                self.end_headers()
                chunk = b"x" * 65536
                try:
                    for _ in range(size // len(chunk)):
                        self.wfile.write(chunk)
                        receiver.sent += len(chunk)
                except OSError:
                    pass  # the client stopped reading and closed: what we want

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def huge(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    servers = []

    def make(**kwargs):
        servers.append(HugeAnswer(**kwargs))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def _deliver_measured(delivery) -> tuple[str, int]:
    tracemalloc.start()
    try:
        status = webhook_deliver(delivery_id=delivery.pk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return status, peak


@pytest.mark.parametrize(("status", "outcome"), [(200, D.DELIVERED), (500, D.PENDING)])
def test_a_multi_megabyte_answer_is_read_only_up_to_the_limit(huge, settings, status, outcome):
    settings.WEBHOOK_RESPONSE_MAX_BYTES = 64 * 1024
    receiver = huge(status=status, size=32 * MiB)
    delivery = WebhookDeliveryFactory(webhook=WebhookFactory(url=receiver.url))

    result, peak = _deliver_measured(delivery)

    assert result == outcome  # recorded as the status code says
    assert peak < 8 * MiB  # reading the whole answer would hold 32 MiB
    attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert attempt.status_code == status
    if status == 200:
        assert attempt.error == ""
    else:
        assert attempt.error.startswith("HTTP 500: xxxx")
        assert len(attempt.error) <= 1100  # an excerpt, not the answer


@pytest.mark.parametrize(
    "url",
    [
        "http://[::ffff:10.0.0.1]/hook",
        "http://[64:ff9b::a00:1]/hook",
        "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/",
        "http://[64:ff9b:1::7f00:1]/hook",
        "http://[2002:a00:1::1]/hook",
        "http://[2002:7f00:1::1]:8080/hook",
        "http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/hook",
        "http://[::10.0.0.1]/hook",
        "http://[::127.0.0.1]/hook",
    ],
)
def test_private_ipv4_addresses_inside_ipv6_literals_are_refused(url):
    with pytest.raises(ValidationError, match="private, loopback or link-local"):
        webhook_check_url(url)


def test_public_ipv4_addresses_inside_ipv6_literals_are_allowed():
    assert webhook_check_url("https://[64:ff9b::5db8:d822]/hook") == "https://[64:ff9b::5db8:d822]/hook"


@pytest.mark.parametrize("url", ["https://user:pa55@93.184.216.34/hook", "https://token@93.184.216.34/hook"])
def test_urls_with_credentials_are_refused_by_the_api_and_the_admin_form(admin_client_api, url):
    response = admin_client_api.post("/api/v1/webhooks/", {"url": url, "events": ["*"]}, format="json")
    form = WebhookAdminForm(data={"name": "x", "url": url, "events": '["*"]', "secret": "s" * 32, "is_active": True})

    assert response.status_code == 400
    assert "Remove the user name and password (user:password@) from the URL" in response.json()["url"][0]
    assert not form.is_valid()
    assert "Remove the user name and password (user:password@) from the URL" in form.errors["url"][0]
    assert not Webhook.objects.exists()


def test_logs_and_the_notice_never_show_credentials_or_query_secrets(
    receiver, settings, caplog, django_capture_on_commit_callbacks
):
    """A subscription saved before credentials were refused, failing until it is disabled."""
    settings.WEBHOOK_DISABLE_AFTER_FAILURES, settings.WEBHOOK_DISABLE_AFTER_SECONDS = 1, 0
    UserFactory(is_superuser=True, is_staff=True, email="admin@example.com")
    receiver.statuses = [500]
    url = receiver.url.replace("http://", "http://hookuser:pa55word@") + "?token=s3cret"
    delivery = WebhookDeliveryFactory(webhook=WebhookFactory(url=url))
    caplog.set_level(logging.DEBUG)

    with django_capture_on_commit_callbacks(execute=True):
        webhook_deliver(delivery_id=delivery.pk)

    assert receiver.requests[0]["path"] == "/hook?token=s3cret"  # the receiver still gets its token
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "disabled" in logged and "token=REDACTED" in logged  # the lines are there, redacted
    assert "HTTP Request: POST" in logged  # httpx's own line about the POST
    for secret in ("pa55word", "hookuser", "s3cret"):
        assert secret not in logged
        assert secret not in mail.outbox[0].subject + mail.outbox[0].body
