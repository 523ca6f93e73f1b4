"""API-key requests skip the browser's middleware (``config.api_keys_path``); everything else keeps it, and nothing
gets weaker: a session still needs its CSRF token on the API, a bad key is refused rather than falling back to the
session, the login pages are still locked out by django-axes, and API writes are still on the audit log."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from agents.models import AuditEntry
from config.api_keys_path import is_api_key_request
from tests.agents.factories import UserFactory
from tests.crm.factories import QueueFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/interactions/"


def body(queue):
    return {"channel": "chat", "queue": queue.pk, "customer_identity": {"address": "ada@example.com"}, "body": "Hi"}


def test_an_api_key_request_runs_without_session_or_messages_and_is_still_audited(write_client):
    queue = QueueFactory(channels=["chat"])
    response = write_client.post(LIST, body(queue), format="json")
    assert response.status_code == 201, response.content
    request = response.wsgi_request
    assert is_api_key_request(request)
    assert not hasattr(request, "session") and not hasattr(request, "_messages") and not hasattr(request, "htmx")
    assert "Set-Cookie" not in response.headers and response.cookies == {}
    assert response["X-Frame-Options"] == "DENY"  # the headers every response gets are still there
    assert AuditEntry.objects.filter(source="api", actor_api_key_id=write_client.api_key.pk).count() == 2


def test_the_api_with_a_session_keeps_its_middleware_and_still_needs_the_csrf_token(db):
    queue = QueueFactory(channels=["chat"])
    user = UserFactory(is_superuser=True, is_staff=True)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    refused = client.post(LIST, body(queue), format="json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    assert hasattr(refused.wsgi_request, "session") and not is_api_key_request(refused.wsgi_request)


def test_a_bad_key_beside_a_session_is_refused_not_taken_for_the_session(db):
    queue = QueueFactory(channels=["chat"])
    client = APIClient()
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    client.credentials(HTTP_AUTHORIZATION="Bearer sb_not-a-key")
    response = client.post(LIST, body(queue), format="json")
    assert response.status_code == 401
    assert not AuditEntry.objects.exists()


def test_pages_and_login_keep_the_browser_middleware_and_axes_still_locks_login_out(db, settings):
    settings.AXES_FAILURE_LIMIT = 2
    UserFactory(username="sam")
    client = Client()
    page = client.get("/accounts/login/", HTTP_AUTHORIZATION="Bearer sb_whatever")  # a Bearer header off /api/
    assert page.status_code == 200 and hasattr(page.wsgi_request, "session")
    assert "csrftoken" in page.cookies
    for expected in (200, 429):
        response = client.post("/accounts/login/", {"username": "sam", "password": "wrong"})
        assert response.status_code == expected
