"""The bridge: outbound messages as signed JSON POSTs to a real HTTP server on 127.0.0.1, inbound ones through
``POST /api/v1/inboxes/{id}/messages/``, and message.created webhooks for both directions."""

import http.server
import json
import re
import threading
from pathlib import Path

import pytest
from django.utils import timezone

from contacts.models import ContactIdentity
from crm.choices import DeliveryStatus, InteractionStatus, MessageDirection
from crm.inboxes.adapters import InvalidSettings, adapter_for
from crm.inboxes.adapters.bridge import BridgeAdapter
from crm.inboxes.models import Delivery
from crm.inboxes.services.delivery import delivery_send
from crm.interactions import services as lifecycle
from crm.interactions.models import Interaction, Message
from crm.webhooks.models import WebhookDelivery
from tests.agents.factories import TeamFactory, UserFactory
from tests.crm.factories import QueueFactory, WebhookFactory, interaction_in_status
from tests.crm.inboxes.factories import InboxFactory
from tests.crm.inboxes.outbound import delivery_of

pytestmark = pytest.mark.django_db

D = DeliveryStatus
S = InteractionStatus
ROOT = Path(__file__).resolve().parents[3]
SECRET = "bridge-secret-0123456789abcdef"


def readme_verify():
    """The signature check integrators copy from the README (its only ```python block under Webhooks)."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Webhooks") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102 (our own README)
    return namespace["verify"]


class Bridge:
    """An integrator's bridge: records each POST and answers the next queued (status, body); default 200 + an id."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[tuple[int, bytes]] = []
        bridge = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                bridge.requests.append({"headers": dict(self.headers), "body": body})
                status, answer = bridge.answers.pop(0) if bridge.answers else (200, b'{"id": "wa-1"}')
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/outbound"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def bridge(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True  # the bridge listens on 127.0.0.1
    server = Bridge()
    yield server
    server.close()


def bridge_inbox(url="http://127.0.0.1:9/", *, team=None):
    queue = QueueFactory(channels=["chat"], team=team)
    return InboxFactory(
        name="WhatsApp bridge", channel="chat", adapter="bridge", queue=queue, settings={"url": url, "secret": SECRET}
    )


def chat_work(inbox):
    return interaction_in_status(
        S.ACTIVE, channel="chat", queue=inbox.queue, customer_identity={"address": "wa-4915112345"}, inbox=inbox
    )


# --- outbound -------------------------------------------------------------------------------------------------------


def test_a_reply_is_a_signed_post_the_readme_snippet_verifies(bridge):
    work = chat_work(bridge_inbox(bridge.url))
    lifecycle.message_create(interaction=work, direction="inbound", body="Hi!", external_id="wamid.1")
    message = lifecycle.message_create(interaction=work, direction="outbound", body="Hello, how can we help?")

    assert delivery_send(delivery_id=delivery_of(message).pk) == D.SENT

    (request,) = bridge.requests
    headers = request["headers"]
    assert readme_verify()(SECRET, headers["Switchboard-Signature"], request["body"])
    assert not readme_verify()("another-secret-0123456789", headers["Switchboard-Signature"], request["body"])
    assert headers["Switchboard-Message-Id"] == str(message.pk)
    assert headers["Idempotency-Key"] == f"switchboard-message-{message.pk}"
    sent = json.loads(request["body"])
    assert sent["type"] == "message.outbound"
    assert sent["data"]["message"] | {"html": None} == {
        "reference": str(message.pk),
        "interaction_id": work.pk,
        "to": ["wa-4915112345"],
        "cc": [],
        "subject": work.subject,
        "body": "Hello, how can we help?",
        "html": None,
        "thread_ids": ["wamid.1"],
        "automatic": False,
        "attachments": [],
    }
    # the bridge's id of what it sent is the message's provider id: the customer's answer can thread by it
    message.refresh_from_db()
    assert message.external_id == "wa-1" and delivery_of(message).provider_id == "wa-1"


def test_a_500_is_retried_and_a_400_fails(bridge):
    work = chat_work(bridge_inbox(bridge.url))
    bridge.answers = [(500, b"upstream down"), (200, b"{}"), (400, b'{"error": "unknown recipient"}')]
    retried = delivery_of(lifecycle.message_create(interaction=work, direction="outbound", body="One"))
    refused = delivery_of(lifecycle.message_create(interaction=work, direction="outbound", body="Two"))

    assert delivery_send(delivery_id=retried.pk) == D.PENDING
    retried.refresh_from_db()
    assert retried.attempts == 1 and "HTTP 500: upstream down" in retried.error
    Delivery.objects.filter(pk=retried.pk).update(next_attempt_at=timezone.now())
    assert delivery_send(delivery_id=retried.pk) == D.SENT
    assert delivery_of(retried.message).provider_id == ""  # the answer named no id

    assert delivery_send(delivery_id=refused.pk) == D.FAILED
    refused.refresh_from_db()
    assert "HTTP 400" in refused.error and "unknown recipient" in refused.error
    assert len(bridge.requests) == 3


def test_an_unreachable_bridge_is_a_temporary_failure(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    work = chat_work(bridge_inbox("http://127.0.0.1:9/closed"))
    delivery = delivery_of(lifecycle.message_create(interaction=work, direction="outbound", body="Hello"))

    assert delivery_send(delivery_id=delivery.pk) == D.PENDING
    assert "ConnectError" in Delivery.objects.get(pk=delivery.pk).error


def test_bridge_settings_refuse_private_targets_and_generate_a_secret_shown_masked(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    with pytest.raises(InvalidSettings) as caught:
        adapter_for("bridge").validate_settings({"url": "http://127.0.0.1:8080/hook", "colour": "blue"})
    assert set(caught.value.errors) == {"url", "colour"} and "private" in caught.value.errors["url"]
    with pytest.raises(InvalidSettings) as short:
        BridgeAdapter.validate_settings({"url": "https://93.184.215.14/hook", "secret": "short"})
    assert set(short.value.errors) == {"secret"}

    cleaned = BridgeAdapter.validate_settings({"url": "https://93.184.215.14/hook"})

    assert len(cleaned["secret"]) == 64
    assert BridgeAdapter.redact_settings(cleaned) == {"url": "https://93.184.215.14/hook", "secret": "***"}


# --- inbound --------------------------------------------------------------------------------------------------------


def _post(client, inbox, **body):
    payload = {"customer": {"address": "wa-4915112345", "name": "Grace"}, "body": "Hello?", "external_id": "wamid.1"}
    return client.post(f"/api/v1/inboxes/{inbox.pk}/messages/", payload | body, format="json")


def test_an_inbound_message_starts_an_interaction_then_its_answers_thread(write_client):
    inbox = bridge_inbox()

    first = _post(write_client, inbox, subject="Order 1234")

    assert first.status_code == 201 and first.json()["new_interaction"] is True
    work = Interaction.objects.get(pk=first.json()["interaction"])
    assert (work.channel, work.inbox_id, work.queue_id, work.status) == ("chat", inbox.pk, inbox.queue_id, S.QUEUED)
    assert (work.customer.name, work.subject) == ("Grace", "Order 1234")
    assert Message.objects.get(pk=first.json()["message"]).external_id == "wamid.1"

    by_key = _post(write_client, inbox, body="It is late.", external_id="wamid.2", thread_key="wamid.1")
    by_id = _post(write_client, inbox, body="Still late.", external_id="wamid.3", interaction=work.pk)
    unthreaded = _post(write_client, inbox, body="Another topic.", external_id="wamid.4", thread_key="unknown")

    assert (by_key.status_code, by_key.json()["interaction"], by_key.json()["new_interaction"]) == (201, work.pk, False)
    assert (by_id.status_code, by_id.json()["interaction"]) == (201, work.pk)
    assert unthreaded.json()["interaction"] != work.pk
    assert list(work.messages.values_list("body", "direction", "inbox")) == [
        ("Hello?", "inbound", inbox.pk),
        ("It is late.", "inbound", inbox.pk),
        ("Still late.", "inbound", inbox.pk),
    ]


def test_a_repeated_post_imports_the_message_once(write_client):
    inbox = bridge_inbox()

    first = _post(write_client, inbox)
    again = _post(write_client, inbox, body="Hello? (resent)")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json() | {"created": False, "new_interaction": False}
    assert Message.objects.count() == 1


def test_another_customers_interaction_cannot_be_named(write_client):
    inbox = bridge_inbox()
    someone_else = chat_work(inbox)

    answer = _post(write_client, inbox, customer={"address": "wa-4915199999"}, interaction=someone_else.pk)

    assert answer.status_code == 400 and "interaction" in answer.json()
    # nothing of the refused message stays: no message, no new customer, no receipt blocking a corrected resend
    assert not Message.objects.exists() and not ContactIdentity.objects.filter(address="wa-4915199999").exists()
    assert _post(write_client, inbox, customer={"address": "wa-4915199999"}).status_code == 201


def test_a_resolved_conversation_reopens_on_the_customers_answer(write_client):
    inbox = bridge_inbox()
    work = interaction_in_status(
        S.RESOLVED, channel="chat", queue=inbox.queue, customer_identity={"address": "wa-4915112345"}, inbox=inbox
    )

    answer = _post(write_client, inbox, interaction=work.pk)

    assert answer.json()["interaction"] == work.pk
    work.refresh_from_db()
    assert work.status == S.QUEUED


def test_a_resolved_conversation_that_cannot_reopen_leaves_the_answer_to_a_new_interaction(write_client):
    inbox = bridge_inbox()
    work = interaction_in_status(
        S.RESOLVED, channel="chat", queue=inbox.queue, customer_identity={"address": "wa-4915112345"}, inbox=inbox
    )
    Interaction.objects.filter(pk=work.pk).update(queue=None)  # nowhere to return to: the reopen is refused

    answer = _post(write_client, inbox, interaction=work.pk)

    assert answer.status_code == 201, answer.content
    assert answer.json()["interaction"] != work.pk and answer.json()["new_interaction"] is True
    work.refresh_from_db()
    assert work.status == S.RESOLVED and not work.messages.exists()  # the refused reopen left nothing behind
    assert Message.objects.get().interaction_id == answer.json()["interaction"]


def test_only_the_inbox_teams_keys_and_unrestricted_callers_may_feed_it(key_client_factory):
    team, other = TeamFactory(), TeamFactory()
    inbox = bridge_inbox(team=team)

    assert _post(key_client_factory(["write"], team=other), inbox).status_code == 404
    assert _post(key_client_factory(["read"]), inbox).status_code == 403
    assert _post(key_client_factory(["write"], team=team), inbox).status_code == 201
    assert _post(key_client_factory(["write"]), inbox, external_id="wamid.9").status_code == 201


def test_bad_input_is_a_field_error_and_a_deactivated_inbox_a_conflict(write_client):
    inbox = bridge_inbox()

    missing = write_client.post(f"/api/v1/inboxes/{inbox.pk}/messages/", {"body": "Hi"}, format="json")
    assert missing.status_code == 400 and {"customer", "external_id"} <= set(missing.json())
    assert _post(write_client, inbox, customer={"address": "   "}).status_code == 400
    assert write_client.post("/api/v1/inboxes/abc/messages/", {}, format="json").status_code == 404
    inbox.is_active = False
    inbox.save(update_fields=["is_active"])
    assert _post(write_client, inbox).status_code == 409
    assert not Message.objects.exists()


# --- message.created webhooks ---------------------------------------------------------------------------------------


def test_message_created_is_written_for_the_customers_messages_and_replies_not_notes(write_client):
    hook = WebhookFactory(events=["message.created"])
    inbox = bridge_inbox()

    inbound = _post(write_client, inbox).json()
    work = Interaction.objects.get(pk=inbound["interaction"])
    reply = lifecycle.message_create(interaction=work, direction=MessageDirection.OUTBOUND, body="We are on it.")
    lifecycle.message_create(interaction=work, direction=MessageDirection.INTERNAL, body="VIP", author=UserFactory())

    events = [d.payload["data"] for d in WebhookDelivery.objects.filter(webhook=hook).order_by("id")]
    assert [(e["message"]["id"], e["message"]["direction"]) for e in events] == [
        (inbound["message"], "inbound"),
        (reply.pk, "outbound"),
    ]
    created = events[1]["message"]
    assert created | {"created_at": None} == {
        "id": reply.pk,
        "interaction_id": work.pk,
        "direction": "outbound",
        "body": "We are on it.",
        "inbox_id": inbox.pk,
        "external_id": "",
        "attachments": [],
        "delivery_status": "pending",  # the delivery is written before the event
        "created_at": None,
    }
    assert events[1]["interaction"]["customer_id"] == work.customer_id
    assert created["created_at"].startswith(str(reply.created_at.year))
