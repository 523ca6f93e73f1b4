"""The survey-answer API allows 20 answers a minute per client address: the address config.client_ip finds, which
a client cannot change by writing something else into X-Forwarded-For."""

import pytest
from django.core.cache import cache
from django.test import RequestFactory
from rest_framework.throttling import ScopedRateThrottle as PlainScopedRateThrottle

pytestmark = pytest.mark.django_db

URL = "/api/v1/surveys/not-a-token/responses"  # throttled before the token is read: a 404 counts as well


@pytest.fixture
def fresh():
    """Forget the throttle's history of the addresses a test uses."""
    used = []

    def address(ip: str) -> str:
        used.append(ip)
        cache.delete(f"throttle_survey_answers_{ip}")
        return ip

    yield address
    for ip in used:
        cache.delete(f"throttle_survey_answers_{ip}")


def _statuses(api_client, *, remote: str, forwarded) -> list[int]:
    return [
        api_client.post(URL, {"score": 5}, format="json", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded(n)).status_code
        for n in range(21)
    ]  # fmt: skip


def test_without_proxies_a_changing_forwarded_header_does_not_evade_the_limit(api_client, settings, fresh):
    settings.TRUSTED_PROXY_COUNT = 0
    client = fresh("198.51.100.7")

    statuses = _statuses(api_client, remote=client, forwarded=lambda n: f"10.9.8.{n}")

    assert statuses[:20] == [404] * 20
    assert statuses[20] == 429


def test_behind_one_proxy_the_client_is_the_address_the_proxy_appended(api_client, settings, fresh):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy, client, neighbour = "10.0.0.2", fresh("203.0.113.50"), fresh("203.0.113.51")

    statuses = _statuses(api_client, remote=proxy, forwarded=lambda n: f"192.0.2.{n}, {client}")
    other = api_client.post(URL, {"score": 5}, format="json", REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=neighbour)

    assert statuses[:20] == [404] * 20
    assert statuses[20] == 429  # the made-up prefix changed every time; the client did not
    assert other.status_code == 404  # another client behind the same proxy is not held back


def test_drfs_plain_throttles_do_not_key_on_the_whole_header_either():
    request = RequestFactory().post(URL, REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="10.9.8.1, 10.9.8.2")

    assert PlainScopedRateThrottle().get_ident(request) == "198.51.100.7"
