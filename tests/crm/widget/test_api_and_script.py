"""A chat inbox through the inboxes API (public key, embed snippet, secret once) and the widget script endpoint,
which serves only pages of the allowed sites."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from crm.inboxes.models import Inbox
from tests.agents.factories import UserFactory
from tests.crm.factories import QueueFactory

from .conftest import SHOP, chat_inbox

pytestmark = pytest.mark.django_db

LIST = reverse("v1:crm-api:inbox-list")


@pytest.fixture
def admin_client():
    client = APIClient()
    client.force_authenticate(UserFactory(is_superuser=True))
    return client


def test_chat_inbox_answers_public_key_snippet_and_its_secret_once(admin_client, settings):
    settings.SWITCHBOARD_PUBLIC_URL = "https://switchboard.example.test"
    queue = QueueFactory(channels=["chat"])
    data = {"name": "Shop chat", "channel": "chat", "queue": queue.pk, "settings": {"allowed_origins": [SHOP + "/"]}}
    created = admin_client.post(LIST, data, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    inbox = Inbox.objects.get(pk=body["id"])
    key, secret = inbox.settings["public_key"], inbox.settings["secret"]
    assert body["adapter"] == "chat" and body["public_key"] == key and key != secret
    assert body["embed_snippet"] == f'<script src="https://switchboard.example.test/widget/{key}.js" async></script>'
    assert body["identity_secret"] == secret and len(secret) == 64
    assert body["settings"]["allowed_origins"] == [SHOP] and body["settings"]["secret"] == "***"
    shown = admin_client.get(reverse("v1:crm-api:inbox-detail", args=[inbox.pk])).json()
    assert secret not in str(shown) and "identity_secret" not in shown and shown["public_key"] == key


@pytest.mark.parametrize(
    ("origins", "message"),
    [
        ([], "a list of the sites"),
        (["shop.example.test"], "is not an origin"),
        (["https://shop.example.test/path"], "is not an origin"),
        ("https://shop.example.test", "a list of the sites"),
    ],
)
def test_bad_allowed_origins_are_a_field_message_and_create_nothing(admin_client, origins, message):
    queue = QueueFactory(channels=["chat"])
    data = {"name": "Shop chat", "channel": "chat", "queue": queue.pk, "settings": {"allowed_origins": origins}}
    response = admin_client.post(LIST, data, format="json")
    assert response.status_code == 400
    assert message in str(response.json())
    assert not Inbox.objects.exists()


def test_script_is_served_to_allowed_pages_only(client):
    inbox = chat_inbox(prechat=["email"])
    url = f"/widget/{inbox.settings['public_key']}.js"
    served = client.get(url, HTTP_REFERER=SHOP + "/products/1")
    text = served.content.decode()
    assert served.status_code == 200 and served["Content-Type"].startswith("application/javascript")
    assert served["Access-Control-Allow-Origin"] == SHOP
    assert f"/ws/widget/{inbox.settings['public_key']}/" in text and '"prechat": ["email"]' in text
    assert "attachShadow" in text and len(served.content) < 30_000
    assert inbox.settings["secret"] not in text
    refused = client.get(url, HTTP_ORIGIN="http://evil.example.test")
    assert refused.status_code == 403 and "attachShadow" not in refused.content.decode()
    assert "not allowed" in refused.content.decode()
    assert client.get(url).status_code == 403  # no origin at all
    assert client.get("/widget/unknownunknownunknown.js", HTTP_REFERER=SHOP + "/").status_code == 404
    inbox.is_active = False
    inbox.save()
    assert client.get(url, HTTP_REFERER=SHOP + "/").status_code == 404


def test_origins_are_normalized_as_browsers_send_them():
    from crm.widget.adapter import normalize_origin

    assert normalize_origin("HTTPS://Shop.Example.com:443/") == "https://shop.example.com"
    assert normalize_origin("http://127.0.0.1:8080") == "http://127.0.0.1:8080"
    assert normalize_origin("null") is None
    assert normalize_origin("javascript:alert(1)") is None
    assert normalize_origin("https://user@shop.example.com") is None
