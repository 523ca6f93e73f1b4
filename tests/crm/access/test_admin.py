"""The API key admin: the raw key shown once, refused input, expiry, revoking."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from crm.access.models import ApiKey
from crm.access.services.api_keys import api_key_authenticate, api_key_create
from tests.crm.admin_pages import messages_of, url

pytestmark = pytest.mark.django_db


def _add_key(admin_client, **overrides):
    data = {"name": "CTI connector", "scopes": ["read", "write"], "team": "", "expires_at_0": "", "expires_at_1": ""}
    data.update(overrides)
    return admin_client.post(url(ApiKey, "add"), data, follow=True)


def test_api_key_add_shows_the_raw_key_once(admin_client, admin_user):
    response = _add_key(admin_client)

    assert response.status_code == 200
    key = ApiKey.objects.get()
    shown = [re.search(r"sb_[A-Za-z0-9_\-]+", t) for t in messages_of(response)]
    raw = next(m.group(0) for m in shown if m)
    assert api_key_authenticate(raw_key=raw) == key
    assert (key.scopes, key.created_by) == (["read", "write"], admin_user)
    assert "not be shown again" in response.content.decode()

    again = admin_client.get(url(ApiKey, "change", key.pk)).content.decode()
    assert raw not in again and key.hashed_key not in again
    assert raw not in admin_client.get(url(ApiKey, "changelist")).content.decode()


@pytest.mark.parametrize(
    "overrides",
    [
        {"scopes": []},
        {"scopes": ["root"]},
        {"name": "   "},
        {"team": "999999"},
        {"expires_at_0": "2001-01-01", "expires_at_1": "00:00:00"},
        {"expires_at_0": "not a date", "expires_at_1": "00:00"},
    ],
)
def test_api_key_add_refuses_bad_input(admin_client, overrides):
    response = _add_key(admin_client, **overrides)

    assert response.status_code == 200
    assert response.context["errors"]
    assert not ApiKey.objects.exists()


def test_api_key_with_expiry_in_the_future(admin_client):
    later = timezone.localtime() + timedelta(days=30)

    _add_key(admin_client, expires_at_0=later.strftime("%Y-%m-%d"), expires_at_1=later.strftime("%H:%M:%S"))

    assert ApiKey.objects.get().expires_at.date() == later.date()


def test_revoke_action_revokes_the_keys(admin_client):
    key, raw = api_key_create(name="old", scopes=["read"])

    admin_client.post(url(ApiKey, "changelist"), {"action": "revoke", "_selected_action": [key.pk]})

    key.refresh_from_db()
    assert key.revoked_at is not None
    assert api_key_authenticate(raw_key=raw) is None
