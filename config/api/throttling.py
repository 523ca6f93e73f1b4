"""DRF throttles keyed on the real client address (``config.client_ip``), as the login throttle is.

DRF's own ``get_ident`` keys on the whole ``X-Forwarded-For`` header unless ``NUM_PROXIES`` is set, so a
client that sends a different made-up prefix each time is a new client each time. These classes ask
``config.client_ip`` instead: ``REMOTE_ADDR``, or the N-th address from the right behind ``TRUSTED_PROXY_COUNT``
proxies, whatever the client wrote to the left of it. (``NUM_PROXIES`` is set from ``TRUSTED_PROXY_COUNT`` too,
so DRF's plain classes come close, but these follow the one rule exactly.)
"""

from rest_framework import throttling

from config.client_ip import client_ip


class ClientIpMixin:
    def get_ident(self, request) -> str:
        return client_ip(request) or ""


class ScopedRateThrottle(ClientIpMixin, throttling.ScopedRateThrottle):
    """Per view scope (``throttle_scope``) and client address."""


class AnonRateThrottle(ClientIpMixin, throttling.AnonRateThrottle):
    """Anonymous requests per client address."""
