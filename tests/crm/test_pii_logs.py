"""No customer's e-mail address, phone number or message body in the application's logs at INFO and above, across
the main flows: an integrator's create, e-mail in (posted and unreadable), a reply out, a text message in and out,
a survey, webhooks, a bounce. Logs go to files, aggregators and support tickets; personal data must not."""

import logging
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from crm.choices import InteractionStatus
from crm.inboxes.adapters.twilio import TwilioAdapter
from crm.inboxes.adapters.twilio.signature import twilio_signature
from crm.inboxes.models import Delivery
from crm.inboxes.services.delivery import delivery_send
from crm.interactions import services as lifecycle
from crm.interactions.models import Interaction
from crm.surveys.services import survey_dispatch
from tests.agents.factories import AgentFactory
from tests.crm.factories import QueueFactory, WebhookFactory
from tests.crm.inboxes.email import corpus
from tests.crm.inboxes.factories import InboxFactory
from tests.support.fake_twilio import SID, TOKEN, FakeTwilio

pytestmark = pytest.mark.django_db

EMAIL = "zelda.private@example.org"
PHONE = "+4915199887766"
BODY = "my card number ends 4711 and my diagnosis is private"
SECRETS = (EMAIL, PHONE, "15199887766", "4711", "diagnosis is private")
TEST_SERVERS = ("mail.log",)


class Captured(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.INFO)
        self.lines: list[str] = []

    def emit(self, record):
        if record.name.startswith(TEST_SERVERS):
            return  # the tests' own stand-ins (aiosmtpd logs every recipient): not Switchboard's logs
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.lines.append(f"{record.name}: {text} {record.__dict__.get('path', '')}")


@pytest.fixture
def captured(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SURVEY_DISPATCH_DELAY = 0
    handler = Captured()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield handler
    root.removeHandler(handler)
    root.setLevel(previous)


def test_the_main_flows_log_no_address_phone_number_or_body(
    captured, write_client, client, settings, smtp_sink, receiver
):
    WebhookFactory(url=receiver.url)
    # an integrator's create, then the agent's reply by e-mail through a real SMTP server
    created = write_client.post(
        "/api/v1/interactions/",
        {"channel": "email", "customer_identity": {"address": EMAIL, "name": "Zelda"}, "body": BODY},
        format="json",
    )
    assert created.status_code == 201
    inbox = InboxFactory(settings={"address": "support@acme.test", "smtp_url": smtp_sink.url()})
    work = Interaction.objects.get(pk=created.json()["id"])
    Interaction.objects.filter(pk=work.pk).update(inbox=inbox)
    work.refresh_from_db()
    reply = lifecycle.message_create(interaction=work, direction="outbound", body=f"Dear Zelda, about {BODY}")
    delivery = Delivery.objects.get(message=reply)
    delivery_send(delivery_id=delivery.pk)
    assert smtp_sink.received and smtp_sink.received[-1].message["To"] == EMAIL

    # e-mail in through the raw-MIME endpoint: a readable one, and one that cannot be read
    raw = corpus.message(sender=f"Zelda <{EMAIL}>", subject="Private", body=BODY).as_bytes()
    url = reverse("inboxes:email-inbound", args=[inbox.token])
    assert client.generic("POST", url, raw, content_type="message/rfc822").status_code == 201
    broken = f"From: {EMAIL}\r\nContent-Type: multipart/mixed; boundary=\r\n\r\n{BODY}".encode()
    assert client.generic("POST", url, broken, content_type="message/rfc822").status_code in (201, 202)

    # a text message in and a reply out through Twilio (a local stand-in)
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    settings.SWITCHBOARD_PUBLIC_URL = "https://switchboard.example.com"
    twilio = FakeTwilio().start()
    try:
        sms = InboxFactory(
            channel="sms", adapter="sms", queue=QueueFactory(channels=["sms"]),
            settings=TwilioAdapter.validate_settings({"account_sid": SID, "auth_token": TOKEN,
                                                      "from_number": "+4930123456", "api_base_url": twilio.base_url}),
        )  # fmt: skip
        fields = {"MessageSid": "SM" + "9" * 32, "From": PHONE, "To": "+4930123456", "Body": BODY, "NumMedia": "0"}
        path = reverse("inboxes:twilio-inbound", args=[sms.token])
        signature = twilio_signature(
            url=settings.SWITCHBOARD_PUBLIC_URL + path, params=fields.items(), auth_token=TOKEN
        )
        posted = client.post(path, urlencode(fields), content_type="application/x-www-form-urlencoded",
                             HTTP_X_TWILIO_SIGNATURE=signature)  # fmt: skip
        assert posted.status_code == 200
        text_work = Interaction.objects.get(channel="sms")
        text_reply = lifecycle.message_create(interaction=text_work, direction="outbound", body=f"Re: {BODY}")
        delivery_send(delivery_id=Delivery.objects.get(message=text_reply).pk)
        twilio.answers = [(400, {"code": 21211, "message": f"The 'To' number {PHONE} is not a valid phone number."})]
        refused = lifecycle.message_create(interaction=text_work, direction="outbound", body="again")
        delivery_send(delivery_id=Delivery.objects.get(message=refused).pk)
    finally:
        twilio.stop()

    # the e-mail interaction resolved: its survey goes to the customer
    waiting = Interaction.objects.filter(channel="email", status=InteractionStatus.QUEUED).first()
    active = lifecycle.interaction_accept(
        interaction=lifecycle.interaction_assign(interaction=waiting, agent=AgentFactory())
    )
    lifecycle.interaction_resolve(interaction=active, disposition="solved")
    survey_dispatch(survey_id=active.surveys.get().pk)

    leaked = [line for line in captured.lines if any(secret in line for secret in SECRETS)]
    assert captured.lines, "nothing was logged: the capture does not work"
    assert not leaked, "\n".join(leaked)
