import pytest
from django.urls import reverse

from crm.webhooks.models import Webhook
from tests.agents.factories import TeamFactory
from tests.crm.factories import WebhookFactory

pytestmark = pytest.mark.django_db

LIST = reverse("v1:crm-api:webhook-list")


def detail(pk) -> str:
    return reverse("v1:crm-api:webhook-detail", args=[pk])


def test_create_returns_the_secret_once(admin_client_api):
    response = admin_client_api.post(
        LIST,
        {
            "url": "https://93.184.216.34/hooks",
            "events": ["interaction.resolved", "survey.answered"],
            "secret": "x" * 32,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["secret"] == "x" * 32 and body["events"] == ["interaction.resolved", "survey.answered"]
    assert body["is_active"] is True
    shown = admin_client_api.get(detail(body["id"])).json()
    assert "secret" not in shown and shown["url"] == "https://93.184.216.34/hooks"


def test_create_without_a_secret_generates_one(admin_client_api):
    body = admin_client_api.post(LIST, {"url": "https://93.184.216.34/", "events": ["*"]}, format="json").json()
    assert len(body["secret"]) == 64


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"url": "http://127.0.0.1/hook", "events": ["*"]}, "url"),
        ({"url": "http://169.254.169.254/", "events": ["*"]}, "url"),
        ({"url": "http://localhost/", "events": ["*"]}, "url"),
        ({"url": "ftp://93.184.216.34/", "events": ["*"]}, "url"),
        ({"url": "https://93.184.216.34/", "events": ["interaction.exploded"]}, "events"),
        ({"url": "https://93.184.216.34/", "events": []}, "events"),
        ({"url": "https://93.184.216.34/", "events": ["*"], "secret": "short"}, "secret"),
        ({"url": "https://93.184.216.34/", "events": ["*"], "colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_a_field_error_and_creates_nothing(admin_client_api, payload, field):
    response = admin_client_api.post(LIST, payload, format="json")
    assert response.status_code == 400 and field in response.json()
    assert not Webhook.objects.exists()


def test_private_targets_are_accepted_when_the_setting_allows(admin_client_api, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    response = admin_client_api.post(LIST, {"url": "http://127.0.0.1:9000/hook", "events": ["*"]}, format="json")
    assert response.status_code == 201


def test_list_patch_and_delete(admin_client_api):
    webhook = WebhookFactory(is_active=False, failure_count=12, disabled_reason="Disabled after 12 failed attempts")
    assert [w["id"] for w in admin_client_api.get(LIST).json()["results"]] == [webhook.pk]

    response = admin_client_api.patch(
        detail(webhook.pk), {"is_active": True, "events": ["survey.answered"]}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["is_active"] is True and body["failure_count"] == 0 and body["disabled_reason"] == ""
    assert body["events"] == ["survey.answered"]

    assert admin_client_api.patch(detail(webhook.pk), {"url": "http://10.0.0.1/"}, format="json").status_code == 400
    assert admin_client_api.delete(detail(webhook.pk)).status_code == 204
    assert admin_client_api.get(detail(webhook.pk)).status_code == 404
    assert admin_client_api.get(detail("abc")).status_code == 404


def test_webhooks_need_an_unrestricted_admin(read_client, write_client, key_client_factory):
    WebhookFactory()
    assert read_client.get(LIST).status_code == 403
    assert write_client.post(LIST, {"url": "https://93.184.216.34/", "events": ["*"]}, format="json").status_code == 403
    team_admin = key_client_factory(["admin"], team=TeamFactory())
    assert team_admin.get(LIST).status_code == 403


@pytest.mark.parametrize("value", ["maybe", "", "102681626092"])
def test_the_active_filter_takes_only_true_or_false(admin_client_api, value):
    response = admin_client_api.get("/api/v1/webhooks/", {"is_active": value})

    assert response.status_code == 400
    assert "is_active" in response.json()
