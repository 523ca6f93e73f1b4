"""Admin of the delivery side: webhook subscriptions, re-sending deliveries, disabled-subscription notices."""

import pytest
from django.urls import reverse

from crm.choices import WebhookDeliveryStatus
from crm.webhooks.models import Webhook
from tests.crm.factories import WebhookDeliveryFactory, WebhookFactory

pytestmark = pytest.mark.django_db


def test_a_supervisor_resends_a_failed_delivery(admin_client):
    delivery = WebhookDeliveryFactory(status=WebhookDeliveryStatus.FAILED, attempts=7)
    response = admin_client.post(
        reverse("admin:crm_webhookdelivery_changelist"), {"action": "resend", "_selected_action": [delivery.pk]}
    )
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == WebhookDeliveryStatus.PENDING and delivery.leased_until is not None


def test_the_webhook_list_warns_about_disabled_subscriptions(admin_client):
    WebhookFactory(is_active=False, disabled_reason="Disabled after 10 failed attempts in a row")
    response = admin_client.get(reverse("admin:crm_webhook_changelist"))
    assert "Disabled after 10 failed attempts in a row" in response.content.decode()


def test_the_admin_refuses_a_private_webhook_target(admin_client):
    response = admin_client.post(
        reverse("admin:crm_webhook_add"),
        {"name": "internal", "url": "http://169.254.169.254/", "events": "*", "secret": "x" * 20, "is_active": "on"},
    )
    assert response.status_code == 200 and "link-local" in response.content.decode()
    assert not Webhook.objects.exists()
    response = admin_client.post(
        reverse("admin:crm_webhook_add"),
        {"name": "crm", "url": "https://93.184.216.34/in", "events": "interaction.resolved", "secret": "x" * 20},
    )
    assert response.status_code == 302
    assert Webhook.objects.get().events == ["interaction.resolved"]


def test_a_supervisor_neither_resends_nor_subscribes(client):
    from django.contrib.auth.models import Group

    from tests.agents.factories import UserFactory
    from tests.crm.groups import default_groups

    default_groups()
    supervisor = UserFactory(is_staff=True)
    supervisor.groups.add(Group.objects.get(name="Supervisor"))
    client.force_login(supervisor)
    delivery = WebhookDeliveryFactory(status=WebhookDeliveryStatus.FAILED)

    response = client.post(
        reverse("admin:crm_webhookdelivery_changelist"), {"action": "resend", "_selected_action": [delivery.pk]}
    )

    assert response.status_code == 403
    delivery.refresh_from_db()
    assert delivery.status == WebhookDeliveryStatus.FAILED
    assert client.get(reverse("admin:crm_webhook_add")).status_code == 403
    assert client.get(reverse("admin:crm_surveysuppressionrule_add")).status_code == 200


def test_the_interaction_page_shows_its_survey_answer(admin_client):
    from tests.crm.factories import SurveyResponseFactory

    answer = SurveyResponseFactory(score=2, comment="Took three calls")
    page = admin_client.get(reverse("admin:crm_interaction_change", args=[answer.survey.interaction_id]))
    assert page.status_code == 200 and "Took three calls" in page.content.decode()
