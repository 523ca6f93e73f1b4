"""Login brute force is throttled by django-axes, keyed on the real client address (also behind a proxy)."""

import pytest
from axes.models import AccessAttempt
from django.test import RequestFactory

from config.client_ip import client_ip
from tests.agents.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # UserFactory's
LOGIN_URLS = ["/accounts/login/", "/admin/login/"]
PROXY = "10.0.0.2"


@pytest.fixture
def supervisor():
    # Staff, so that the right password really signs in on /admin/login/ too.
    return UserFactory(username="sam.supervisor", is_staff=True)


def _login(client, url, password, **meta):
    return client.post(url, {"username": "sam.supervisor", "password": password}, **meta)


def _fail_until_locked(client, url, limit, **meta):
    """The first limit-1 wrong passwords show the form again; the limit-th is answered with the lockout."""
    for _ in range(limit - 1):
        assert _login(client, url, "wrong password", **meta).status_code == 200
    assert _login(client, url, "wrong password", **meta).status_code == 429


@pytest.mark.parametrize("url", LOGIN_URLS)
def test_login_page_renders(client, url):
    response = client.get(url)

    assert response.status_code == 200
    assert b'name="password"' in response.content


@pytest.mark.parametrize("url", LOGIN_URLS)
def test_failed_logins_lock_the_address_out_even_for_the_right_password(client, supervisor, settings, url):
    _fail_until_locked(client, url, settings.AXES_FAILURE_LIMIT, REMOTE_ADDR="203.0.113.7")

    response = _login(client, url, PASSWORD, REMOTE_ADDR="203.0.113.7")

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("url", LOGIN_URLS)
def test_a_different_address_is_not_locked_out(client, supervisor, settings, url):
    _fail_until_locked(client, url, settings.AXES_FAILURE_LIMIT, REMOTE_ADDR="203.0.113.7")

    response = _login(client, url, PASSWORD, REMOTE_ADDR="203.0.113.8")

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(supervisor.pk)


@pytest.mark.parametrize("url", LOGIN_URLS)
def test_behind_a_proxy_the_client_address_counts_not_the_proxys_nor_a_forged_one(client, supervisor, settings, url):
    settings.TRUSTED_PROXY_COUNT = 1
    # The attacker forges a new left-most X-Forwarded-For value each time; the proxy appends the real one.
    for i in range(settings.AXES_FAILURE_LIMIT):
        response = _login(
            client, url, "wrong password", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}, 203.0.113.7"
        )
    assert response.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}

    # Another client behind the same proxy signs in: the proxy's own address is not what was locked.
    response = _login(client, url, PASSWORD, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.8")
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "expected"),
    [
        (0, "198.51.100.1", "10.0.0.2"),  # no trusted proxy: the header is the client's word, ignored
        (1, "198.51.100.1, 203.0.113.7", "203.0.113.7"),
        (2, "198.51.100.1, 203.0.113.7, 10.0.0.9", "203.0.113.7"),  # load balancer + nginx
        (2, "203.0.113.7", "10.0.0.2"),  # fewer hops than proxies: not trustworthy
        (1, "not-an-address", "10.0.0.2"),
        (1, "198.51.100.1, 203.0.113.7:51234", "203.0.113.7"),
        (1, "[2001:db8::7]:443", "2001:db8::7"),
    ],
)
def test_client_ip_takes_the_left_most_address_the_trusted_proxies_appended(settings, proxies, forwarded_for, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded_for)

    assert client_ip(request) == expected
