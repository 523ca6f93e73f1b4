"""The client's address behind a known number of reverse proxies: the one rule of django-axes' login throttle and
of the API's throttles (``config.api.throttling``)."""

import ipaddress

from django.conf import settings


def _as_ip(value: str) -> str | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.7:51234": some proxies add the port
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """``REMOTE_ADDR``, or with ``TRUSTED_PROXY_COUNT`` = N the N-th ``X-Forwarded-For`` entry from the right.

    Each proxy appends the address it received the request from, so with N trusted proxies the
    left-most value they appended is the N-th from the right. Anything further left was sent by the
    client itself and can be forged, so it is never used (taking the left-most value would let an
    attacker pick a fresh address for every login attempt).
    """
    remote = request.META.get("REMOTE_ADDR")
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count <= 0:
        return remote
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < count:
        # Fewer hops than proxies: the request did not come through all of them (or the setting is wrong).
        return remote
    return _as_ip(hops[-count]) or remote
