"""SMS and WhatsApp through Twilio, against a local server playing Twilio's API and media hosts: signed webhooks
in, replies out through the delivery outbox with retries, status callbacks, opt-out words and WhatsApp's window."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from contacts.models import ContactIdentity
from crm.choices import DeliveryStatus, InteractionStatus
from crm.inboxes.adapters import InvalidSettings
from crm.inboxes.adapters.twilio import TwilioAdapter, TwilioWhatsAppAdapter
from crm.inboxes.adapters.twilio.signature import twilio_signature, twilio_signature_valid
from crm.inboxes.attachments import attachment_read
from crm.inboxes.models import Delivery, InboundReceipt, Inbox
from crm.inboxes.services.delivery import delivery_send
from crm.interactions import services as lifecycle
from crm.interactions.models import Interaction, Message
from tests.agents.factories import AgentFactory, TeamFactory
from tests.crm.factories import QueueFactory, interaction_in_status
from tests.crm.inboxes.factories import InboxFactory
from tests.support.fake_twilio import SID, TOKEN, FakeTwilio

from .conftest import PUBLIC

pytestmark = pytest.mark.django_db

NUMBER, CUSTOMER = "+4930123456", "+4915112345678"
TEMPLATE_SID = "HX" + "ab" * 16
D = DeliveryStatus


def _inbox(twilio, channel="sms", **extra):
    adapter = TwilioWhatsAppAdapter if channel == "whatsapp" else TwilioAdapter
    values = {"account_sid": SID, "auth_token": TOKEN, "from_number": NUMBER, "api_base_url": twilio.base_url}
    return InboxFactory(
        name=f"Acme {channel}",
        channel=channel,
        adapter=channel,
        queue=QueueFactory(channels=[channel]),
        settings=adapter.validate_settings({**values, **extra}),
    )


def _post(client, inbox, fields, *, status=False, signed_url=None, signature=None):
    path = reverse("inboxes:twilio-status" if status else "inboxes:twilio-inbound", args=[inbox.token])
    if signature is None:
        signature = twilio_signature(url=signed_url or PUBLIC + path, params=fields.items(), auth_token=TOKEN)
    return client.post(
        path, urlencode(fields), content_type="application/x-www-form-urlencoded", HTTP_X_TWILIO_SIGNATURE=signature
    )


def _sms(sid="SM" + "1" * 32, body="My order did not arrive", sender=CUSTOMER, **extra):
    return {"MessageSid": sid, "AccountSid": SID, "From": sender, "To": NUMBER, "Body": body, "NumMedia": "0", **extra}


def _reply(interaction, body="Sorry! It ships today."):
    return lifecycle.message_create(interaction=interaction, direction="outbound", body=body)


def _send(message) -> Delivery:
    delivery = Delivery.objects.get(message=message)
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now(), leased_until=None)
    delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    return delivery


# --- signatures and settings -----------------------------------------------------------------------------------------


def test_the_signature_matches_twilios_documented_example():
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+14158675310",
        "Digits": "1234",
        "From": "+14158675310",
        "To": "+18005551212",
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"

    assert twilio_signature(url=url, params=params.items(), auth_token="12345") == "GvWf1cFY/Q7PnoempGyD5oXAezc="
    tampered = {**params, "Digits": "9999"}
    assert not twilio_signature_valid(
        url=url, params=tampered.items(), auth_token="12345", signature="GvWf1cFY/Q7PnoempGyD5oXAezc="
    )


def test_settings_are_checked_and_the_token_never_shown_again():
    with pytest.raises(InvalidSettings) as caught:
        TwilioAdapter.validate_settings({"account_sid": "nope", "auth_token": "short", "from_number": "0301234"})
    assert set(caught.value.errors) == {"account_sid", "auth_token", "from_number"}

    stored = TwilioAdapter.validate_settings({"account_sid": SID, "auth_token": TOKEN, "from_number": NUMBER})
    assert stored["api_base_url"] == "https://api.twilio.com"
    assert TwilioAdapter.redact_settings(stored)["auth_token"] == "***"


# --- inbound ---------------------------------------------------------------------------------------------------------


def test_a_signed_text_becomes_a_routed_interaction_once(client, twilio):
    inbox = _inbox(twilio)

    first = _post(client, inbox, _sms())
    again = _post(client, inbox, _sms())  # Twilio retries when it did not hear back in time

    assert first.status_code == again.status_code == 200
    assert first["Content-Type"].startswith("text/xml") and b"<Response></Response>" in first.content
    interaction = Interaction.objects.get()
    assert (interaction.channel, interaction.queue_id, interaction.inbox_id) == ("sms", inbox.queue_id, inbox.pk)
    assert interaction.status == InteractionStatus.QUEUED
    assert list(Message.objects.values_list("body", "external_id")) == [("My order did not arrive", "SM" + "1" * 32)]
    assert ContactIdentity.objects.get(customer=interaction.customer).address == CUSTOMER


def test_a_forged_or_misdirected_signature_is_refused_and_nothing_stored(client, twilio):
    inbox = _inbox(twilio)

    assert _post(client, inbox, _sms(), signature="forged=").status_code == 403
    assert _post(client, inbox, _sms(), signature="").status_code == 403
    # signed over the address the proxy forwarded to, not the public one Twilio called
    path = reverse("inboxes:twilio-inbound", args=[inbox.token])
    assert _post(client, inbox, _sms(), signed_url="http://testserver" + path).status_code == 403
    assert _post(client, inbox, {**_sms(), "Body": "changed on the way"}, signature=None).status_code == 200

    assert Interaction.objects.count() == 1 and InboundReceipt.objects.count() == 1
    assert client.post(reverse("inboxes:twilio-inbound", args=["no-such-token"]), {}).status_code == 404


def test_every_media_item_of_an_mms_is_kept_and_a_forged_media_host_gets_nothing(client, twilio):
    inbox = _inbox(twilio)
    twilio.media["one"] = (b"\x89PNG first picture", "image/png")
    twilio.media["two"] = (b"%PDF-1.4 receipt", "application/pdf")
    fields = _sms(
        body="",
        NumMedia="3",
        MediaUrl0=f"{twilio.base_url}/media/one",
        MediaContentType0="image/png",
        MediaUrl1=f"{twilio.base_url}/media/two",
        MediaContentType1="application/pdf",
        MediaUrl2=f"http://localhost:{twilio.port}/media/one",  # not a Twilio host
        MediaContentType2="image/png",
    )

    assert _post(client, inbox, fields).status_code == 200

    message = Message.objects.get()
    kept = [entry for entry in message.attachments if "path" in entry]
    assert [attachment_read(entry) for entry in kept] == [b"\x89PNG first picture", b"%PDF-1.4 receipt"]
    (left_out,) = [entry for entry in message.attachments if "skipped" in entry]
    assert "not one of Twilio's media hosts" in left_out["skipped"]
    # both redirects followed; the forged URL was never requested at all
    assert [path for path, _ in twilio.media_requests] == ["/media/one", "/cdn/one", "/media/two", "/cdn/two"]
    assert message.body == "[2 attachment(s)]"


# --- outbound --------------------------------------------------------------------------------------------------------


def test_a_reply_is_sent_with_basic_auth_and_a_status_callback(client, twilio):
    inbox = _inbox(twilio)
    _post(client, inbox, _sms())

    delivery = _send(_reply(Interaction.objects.get()))

    assert delivery.status == D.SENT and delivery.provider_id.startswith("SM")
    (sent,) = twilio.sent
    assert sent.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert sent.authorization == FakeTwilio.basic()
    status_path = reverse("inboxes:twilio-status", args=[inbox.token])
    assert sent.form == {
        "To": CUSTOMER,
        "From": NUMBER,
        "Body": "Sorry! It ships today.",
        "StatusCallback": PUBLIC + status_path,
    }


def test_busy_and_failing_twilio_is_retried_and_a_refusal_is_shown(client, twilio):
    inbox = _inbox(twilio)
    _post(client, inbox, _sms())
    interaction = Interaction.objects.get()
    twilio.answers = [(500, {"message": "Internal"}), (429, {"code": 20429, "message": "Too Many Requests"})]

    message = _reply(interaction)
    assert _send(message).status == D.PENDING
    retrying = _send(message)
    assert retrying.status == D.PENDING and "20429" in retrying.error
    assert _send(message).status == D.SENT

    twilio.answers = [(400, {"code": 21211, "message": "The 'To' number is not a valid phone number."})]
    refused = _send(_reply(interaction, body="Another note"))
    assert refused.status == D.FAILED and "not a valid phone number" in refused.error and "21211" in refused.error
    assert len(twilio.sent) == 4


def test_status_callbacks_fail_an_undelivered_reply_and_21610_opts_the_number_out(client, twilio):
    inbox = _inbox(twilio)
    _post(client, inbox, _sms())
    interaction = Interaction.objects.get()
    delivered, lost = _send(_reply(interaction)), _send(_reply(interaction, body="Second"))

    ok = _post(client, inbox, {"MessageSid": delivered.provider_id, "MessageStatus": "delivered", "To": CUSTOMER},
               status=True)  # fmt: skip
    failed = _post(client, inbox, {"MessageSid": lost.provider_id, "MessageStatus": "undelivered",
                                   "ErrorCode": "21610", "To": CUSTOMER}, status=True)  # fmt: skip

    assert ok.status_code == failed.status_code == 204
    delivered.refresh_from_db()
    lost.refresh_from_db()
    assert delivered.status == D.DELIVERED
    assert lost.status == D.FAILED and "undelivered (error 21610)" in lost.error
    assert Message.objects.get(pk=lost.message_id).delivery_status == D.FAILED
    assert "opted out" in ContactIdentity.objects.get(address=CUSTOMER).undeliverable_reason
    forged = _post(client, inbox, {"MessageSid": delivered.provider_id, "MessageStatus": "failed"}, status=True,
                   signature="forged=")  # fmt: skip
    assert forged.status_code == 403
    delivered.refresh_from_db()
    assert delivered.status == D.DELIVERED


def test_stop_opts_the_customer_out_and_start_lets_replies_through_again(client, twilio):
    inbox = _inbox(twilio)
    _post(client, inbox, _sms())
    interaction = Interaction.objects.get()
    _post(client, inbox, _sms(sid="SM" + "2" * 32, body="stop"))

    refused = _send(_reply(interaction))
    assert refused.status == D.FAILED and "opted out" in refused.error and CUSTOMER in refused.error
    assert not twilio.sent

    _post(client, inbox, _sms(sid="SM" + "3" * 32, body="START"))
    assert _send(_reply(interaction, body="Welcome back")).status == D.SENT
    assert [sent.form["Body"] for sent in twilio.sent] == ["Welcome back"]


# --- WhatsApp --------------------------------------------------------------------------------------------------------


def test_whatsapp_replies_within_the_window_and_only_templates_after_it(client, twilio):
    inbox = _inbox(twilio, channel="whatsapp", templates={"order_update": TEMPLATE_SID})
    _post(client, inbox, _sms(sender=f"whatsapp:{CUSTOMER}", To=f"whatsapp:{NUMBER}"))
    interaction = Interaction.objects.get()
    assert interaction.channel == "whatsapp"

    assert _send(_reply(interaction)).status == D.SENT
    assert (twilio.sent[-1].form["To"], twilio.sent[-1].form["From"]) == (f"whatsapp:{CUSTOMER}", f"whatsapp:{NUMBER}")

    Message.objects.filter(direction="inbound").update(created_at=timezone.now() - timedelta(hours=25))
    late = _send(_reply(interaction, body="Any news?"))
    assert late.status == D.FAILED and "24-hour window" in late.error and "template" in late.error

    template = _send(_reply(interaction, body="template:order_update"))
    assert template.status == D.SENT
    assert twilio.sent[-1].form.get("ContentSid") == TEMPLATE_SID and "Body" not in twilio.sent[-1].form
    assert len(twilio.sent) == 2


# --- request forgery ---------------------------------------------------------------------------------------------------


def test_a_loopback_api_address_is_refused_without_the_private_targets_setting(client, twilio, settings):
    inbox = _inbox(twilio)
    _post(client, inbox, _sms())
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False  # as in production: 127.0.0.1 is not Twilio

    refused = _send(_reply(Interaction.objects.get()))

    assert refused.status == D.FAILED and "Twilio's API address is not allowed" in refused.error
    assert Message.objects.get(pk=refused.message_id).delivery_status == D.FAILED
    assert not twilio.sent  # nothing reached the loopback server


def test_a_loopback_api_address_is_refused_when_the_inbox_is_saved(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    values = {"account_sid": SID, "auth_token": TOKEN, "from_number": NUMBER, "api_base_url": "http://127.0.0.1:9/"}

    with pytest.raises(InvalidSettings) as caught:
        TwilioAdapter.validate_settings(values)

    assert set(caught.value.errors) == {"api_base_url"}
    assert "WEBHOOK_ALLOW_PRIVATE_TARGETS" in caught.value.errors["api_base_url"]
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    assert TwilioAdapter.validate_settings(values)["api_base_url"] == "http://127.0.0.1:9"


def test_connecting_a_number_through_the_api_shows_the_inbound_url_once_and_never_the_token(admin_client_api, settings):
    settings.SWITCHBOARD_PUBLIC_URL = PUBLIC
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    queue = QueueFactory(channels=["sms"])
    values = {"account_sid": SID, "auth_token": TOKEN, "from_number": NUMBER}
    data = {"name": "Text us", "channel": "sms", "adapter": "sms", "queue": queue.pk, "settings": values}
    inboxes = reverse("v1:crm-api:inbox-list")

    refused = admin_client_api.post(
        inboxes, {**data, "settings": {**values, "api_base_url": "http://127.0.0.1:9"}}, format="json"
    )
    created = admin_client_api.post(inboxes, data, format="json")

    assert refused.status_code == 400 and "WEBHOOK_ALLOW_PRIVATE_TARGETS" in str(
        refused.json()["settings.api_base_url"]
    )
    assert TOKEN not in refused.content.decode()
    assert created.status_code == 201, created.json()
    inbox = Inbox.objects.get()
    assert created.json()["inbound_url"] == PUBLIC + reverse("inboxes:twilio-inbound", args=[inbox.token])
    assert created.json()["settings"]["auth_token"] == "***" and TOKEN not in created.content.decode()
    assert inbox.settings["auth_token"] == TOKEN


# --- console ---------------------------------------------------------------------------------------------------------


def test_the_agent_sees_why_a_reply_to_an_opted_out_number_was_not_sent(client, twilio):
    team = TeamFactory(name="Texting")
    agent = AgentFactory(team=team, name="Ana Agent")
    queue = QueueFactory(channels=["sms"], team=team)
    values = {"account_sid": SID, "auth_token": TOKEN, "from_number": NUMBER, "api_base_url": twilio.base_url}
    inbox = InboxFactory(name="Acme sms", channel="sms", adapter="sms", queue=queue,
                         settings=TwilioAdapter.validate_settings(values))  # fmt: skip
    work = interaction_in_status(
        InteractionStatus.ACTIVE, agent=agent, channel="sms", queue=queue, inbox=inbox,
        customer_identity={"address": CUSTOMER, "name": "Ada"}, body="Where is my order?", message_external_id="SM" + "0" * 32,
    )  # fmt: skip
    _post(client, inbox, _sms(body="Stop"))  # joins the open conversation
    refused = _send(_reply(work, body="It ships today"))
    console = Client()
    console.force_login(agent.user)

    page = console.get(f"/console/interactions/{work.pk}/").content.decode()

    assert Interaction.objects.count() == 1 and refused.status == D.FAILED
    assert '<span class="delivery-status">Failed</span>' in page
    assert f"not sent: {CUSTOMER} opted out of messages from {NUMBER} (STOP)" in page
    assert not twilio.sent


def test_the_customers_next_text_joins_their_open_conversation(client, twilio):
    inbox = _inbox(twilio)
    _post(client, inbox, _sms())
    _post(client, inbox, _sms(sid="SM" + "4" * 32, body="Any update?"))

    interaction = Interaction.objects.get()
    assert list(interaction.messages.order_by("id").values_list("body", flat=True)) == [
        "My order did not arrive",
        "Any update?",
    ]
    assert InboundReceipt.objects.filter(interaction=interaction).count() == 2


def test_a_template_the_inbox_does_not_approve_is_refused_with_its_name(client, twilio):
    inbox = _inbox(twilio, channel="whatsapp", templates={"order_update": TEMPLATE_SID})
    _post(client, inbox, _sms(sender=f"whatsapp:{CUSTOMER}", To=f"whatsapp:{NUMBER}"))

    refused = _send(_reply(Interaction.objects.get(), body="template:spring_sale"))

    assert refused.status == D.FAILED and "no approved WhatsApp template named 'spring_sale'" in refused.error
    assert not twilio.sent
