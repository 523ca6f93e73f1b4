"""Consent per customer and kind (surveys, marketing, recording), changed through the customer API with its source,
and respected by the senders: surveys, marketing contacts and call recordings."""

import pytest
from django.core import mail

from config.errors import DomainError
from contacts.models import ConsentRecord, Customer
from crm.calls.models import Call
from crm.choices import InteractionEventKind, InteractionStatus
from crm.interactions import services as lifecycle
from crm.interactions.models import Interaction
from crm.surveys.services import survey_dispatch
from tests.contacts.factories import CustomerFactory
from tests.crm.factories import QueueFactory, interaction_in_status
from tests.crm.inboxes.factories import InboxFactory

pytestmark = pytest.mark.django_db
CALLER = "+4930555222"


def _history(customer) -> list[tuple[str, bool, str]]:
    return list(ConsentRecord.objects.filter(customer=customer).order_by("id").values_list("kind", "granted", "source"))


def test_consent_is_read_and_changed_through_the_customer_api_with_its_source(admin_client_api):
    customer = CustomerFactory()
    shown = admin_client_api.get(f"/api/v1/customers/{customer.pk}/").json()
    assert (shown["survey_opt_out"], shown["marketing_consent"], shown["recording_consent"]) == (False, False, True)

    response = admin_client_api.patch(
        f"/api/v1/customers/{customer.pk}/",
        {"recording_consent": False, "marketing_consent": True, "consent_source": "phone call"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["recording_consent"] is False
    assert sorted(_history(customer)) == [("marketing", True, "phone call"), ("recording", False, "phone call")]
    admin_client_api.patch(f"/api/v1/customers/{customer.pk}/", {"recording_consent": True}, format="json")
    assert _history(customer)[-1] == ("recording", True, "api")  # the source defaults to the API


def test_a_new_customer_s_consents_other_than_the_defaults_are_recorded(admin_client_api):
    response = admin_client_api.post(
        "/api/v1/customers/",
        {"name": "Ada", "recording_consent": False, "consent_source": "web form"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert _history(Customer.objects.get(pk=response.json()["id"])) == [("recording", False, "web form")]


def test_a_bad_consent_value_is_a_400_and_changes_nothing(admin_client_api):
    customer = CustomerFactory()
    url = f"/api/v1/customers/{customer.pk}/"
    bad = admin_client_api.patch(url, {"recording_consent": "maybe"}, format="json")
    assert bad.status_code == 400 and "recording_consent" in bad.json()
    long = admin_client_api.patch(url, {"recording_consent": False, "consent_source": "x" * 41}, format="json")
    assert long.status_code == 400 and "consent_source" in long.json()
    assert Customer.objects.get(pk=customer.pk).recording_consent is True and _history(customer) == []


@pytest.fixture
def line(db):
    queue = QueueFactory(name="Phones", channels=["voice"])
    return InboxFactory(name="Hotline", channel="voice", adapter="voice", queue=queue, settings={})


def _call_with_recording(client, line, call_id):
    started = client.post("/api/v1/calls/", {"inbox": line.pk, "call_id": call_id, "caller": CALLER}, format="json")
    assert started.status_code in (200, 201), started.content
    pk = started.json()["id"]
    assert client.post(f"/api/v1/calls/{pk}/events/", {"type": "ended"}, format="json").status_code == 200
    url = f"https://rec.example/{call_id}.mp3"
    response = client.post(f"/api/v1/calls/{pk}/events/", {"type": "recording", "url": url}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["recording_url"] == Call.objects.get(pk=pk).recording_url  # what the platform is told
    return Call.objects.get(pk=pk)


def test_a_call_keeps_no_recording_of_a_customer_who_withdrew_consent(write_client, admin_client_api, line):
    first = _call_with_recording(write_client, line, "CA1")
    assert first.recording_url == "https://rec.example/CA1.mp3"  # consent is the default
    customer = first.interaction.customer

    response = admin_client_api.patch(
        f"/api/v1/customers/{customer.pk}/", {"recording_consent": False, "consent_source": "ivr"}, format="json"
    )
    assert response.status_code == 200
    second = _call_with_recording(write_client, line, "CA2")

    assert second.interaction.customer_id == customer.pk and second.recording_url == ""
    withheld = second.interaction.events.get(kind=InteractionEventKind.RECORDING_WITHHELD)
    assert withheld.data["reason"] == "recording withheld: no consent"


def test_a_survey_is_not_sent_to_a_customer_who_opted_out_through_the_api(admin_client_api, settings):
    settings.SURVEY_DISPATCH_DELAY = 0
    customer = CustomerFactory()
    response = admin_client_api.patch(
        f"/api/v1/customers/{customer.pk}/", {"survey_opt_out": True, "consent_source": "e-mail"}, format="json"
    )
    assert response.status_code == 200
    work = interaction_in_status(
        InteractionStatus.ACTIVE, channel="email", customer=customer, queue=QueueFactory(channels=["email"])
    )
    work = lifecycle.interaction_resolve(interaction=work)
    survey = work.surveys.get()
    survey_dispatch(survey_id=survey.pk)
    survey.refresh_from_db()
    assert survey.status == "suppressed" and "opted out" in survey.suppressed_reason
    assert mail.outbox == []
    assert _history(customer) == [("surveys", False, "e-mail")]


def test_a_marketing_contact_needs_marketing_consent():
    customer = CustomerFactory(marketing_consent=False)
    with pytest.raises(DomainError, match="not consented to marketing"):
        lifecycle.interaction_create_inbound(
            channel="email", customer=customer, direction="outbound", body="20% off this week", marketing=True
        )
    assert not Interaction.objects.exists()

    customer.marketing_consent = True
    customer.save(update_fields=["marketing_consent"])
    work = lifecycle.interaction_create_inbound(
        channel="email", customer=customer, direction="outbound", body="20% off this week", marketing=True
    )
    assert work.messages.get().body == "20% off this week"
    # a service contact (not marketing) needs no marketing consent
    other = CustomerFactory(marketing_consent=False)
    assert lifecycle.interaction_create_inbound(
        channel="email", customer=other, direction="outbound", body="Your parcel is delayed"
    )
