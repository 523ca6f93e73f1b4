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


# --- the providers' inbound calls: straight to their view (InboundShortcutMiddleware) ----------------------------


def _post_mail(client, inbox, body: bytes | None = None, **extra):
    from tests.crm.inboxes.email import corpus

    url = f"/inbound/email/{inbox.token}/"
    return client.generic("POST", url, body or corpus.message().as_bytes(), content_type="message/rfc822", **extra)


@pytest.fixture
def email_inbox(db):
    from crm.inboxes.adapters.email import EmailAdapter
    from tests.crm.inboxes.email import corpus
    from tests.crm.inboxes.factories import InboxFactory

    return InboxFactory(settings=EmailAdapter.validate_settings({"address": corpus.SUPPORT}))


def test_an_inbound_call_reaches_its_view_past_the_browser_middleware_in_the_site_language(email_inbox, settings):
    from django.utils import translation

    from config.metrics import http_duration

    settings.LANGUAGE_CODE = "en"
    translation.activate("de")  # what this thread ran before
    response = _post_mail(Client(), email_inbox, HTTP_ACCEPT_LANGUAGE="es")

    assert response.status_code == 201, response.content
    request = response.wsgi_request
    assert request.resolver_match.view_name == "inboxes:email-inbound"
    assert translation.get_language() == "en"  # the site's language, not the thread's last nor the caller's
    assert not hasattr(request, "session") and "Content-Language" not in response.headers
    assert "X-Frame-Options" not in response.headers  # clickjacking's middleware was never reached
    assert response["X-Request-ID"]  # the request id and its log line, before the shortcut, still run
    timed = http_duration.labels("inboxes:email-inbound", "POST", "201")
    assert timed._sum.get() > 0  # the metrics, labelled by the view


def test_an_inbound_call_from_a_host_not_allowed_is_refused(email_inbox, settings):
    settings.ALLOWED_HOSTS = ["switchboard.example.com"]
    response = _post_mail(Client(), email_inbox, HTTP_HOST="evil.example.net")
    assert response.status_code == 400
    from crm.inboxes.models import InboundReceipt

    assert not InboundReceipt.objects.exists()


def test_a_plain_http_inbound_call_is_still_redirected_when_the_site_wants_https(email_inbox, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    plain = _post_mail(Client(), email_inbox)
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    secure = _post_mail(Client(), email_inbox, HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 201, secure.content


def test_an_unknown_inbound_path_answers_not_found(db):
    response = Client().post("/inbound/email/no-such-token", b"x", content_type="message/rfc822")
    assert response.status_code == 404


def test_an_inbound_call_through_the_asgi_handler_takes_the_same_short_way(email_inbox):
    """The same chain under ASGI (uvicorn serves HTTP too when one role does both): the sync shortcut is adapted."""
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient
    from django.urls import reverse

    from crm.inboxes.models import InboundReceipt
    from tests.crm.inboxes.email import corpus

    url = reverse("inboxes:email-inbound", args=[email_inbox.token])
    post = async_to_sync(AsyncClient().post)

    response = post(url, corpus.message().as_bytes(), content_type="message/rfc822")

    assert response.status_code == 201, response.content
    assert response.json()["status"] == "imported"
    assert "X-Frame-Options" not in response.headers and response["X-Request-ID"]
    assert InboundReceipt.objects.filter(inbox=email_inbox).count() == 1


def test_an_inbound_path_is_resolved_once_per_process_and_again_for_a_new_url_configuration(email_inbox, settings):
    """``_resolved`` keeps each inbound path's match (an inbox's mails all go to one URL), keyed by Django's resolver:
    a changed URL configuration is resolved afresh."""
    from django.urls import path

    from config.api_keys_path import _resolved
    from tests.crm.inboxes.email import corpus

    client = Client()
    _resolved.cache_clear()
    first = _post_mail(client, email_inbox, body=corpus.message(message_id="<r1@example.org>").as_bytes())
    second = _post_mail(client, email_inbox, body=corpus.message(message_id="<r2@example.org>").as_bytes())
    assert [first.status_code, second.status_code] == [201, 201]
    assert first.wsgi_request.resolver_match is second.wsgi_request.resolver_match  # resolved once
    assert _resolved.cache_info().misses == 1

    def elsewhere(request, token):
        from django.http import JsonResponse

        return JsonResponse({"token": token})

    settings.ROOT_URLCONF = type("Urls", (), {"urlpatterns": [path("inbound/email/<str:token>/", elsewhere)]})
    moved = _post_mail(client, email_inbox)
    assert moved.json() == {"token": email_inbox.token}  # the new configuration's view, not the kept match
