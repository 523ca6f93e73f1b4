"""Browser middleware left out of the way of API-key requests (``/api/`` with ``Authorization: Bearer …``).

Such a request is authenticated by its key alone: ``ApiKeyAuthentication`` answers a bad key with 401 and never
falls back to a session, so the request has no use for a session, flash messages, htmx or static files (and
without a user from a session, the signed-in user's language preference, ``agents.preferences``, steps aside by
itself). Each of those middlewares is listed in ``MIDDLEWARE`` wrapped by ``bypassed_for_api_keys``: for an API-key request the wrapper
calls the next one directly; for every other request (the console, the admin, the login pages, the API used with a
session) the middleware runs as before.

What still runs for every request: the request id and access log, the replica router, the metrics, the security
headers, CSRF protection (cheap for the API's views, which DRF exempts; ``check --deploy`` wants it by name), the
language from ``Accept-Language`` (API messages are translated), ``CommonMiddleware``, the audit
context (an API write is on record with its key and address: ``config.audit``), the clickjacking header and
django-axes (which guards the login pages, not the API: an API key is never a password).
"""

from django.utils.module_loading import import_string

API_PREFIX = "/api/"


def is_api_key_request(request) -> bool:
    """``/api/…`` with a Bearer credential: authenticated by ``ApiKeyAuthentication`` or refused by it."""
    return request.path_info.startswith(API_PREFIX) and request.META.get("HTTP_AUTHORIZATION", "")[:7].lower() == (
        "bearer "
    )


def bypassed_for_api_keys(dotted_path: str) -> type:
    """A subclass of ``dotted_path``'s middleware that steps aside for API-key requests (a subclass, so that Django's
    checks still find the session, authentication and messages middleware the admin needs)."""
    wrapped = import_string(dotted_path)

    class Bypassed(wrapped):
        def __call__(self, request):
            if is_api_key_request(request):
                return self.get_response(request)  # in an async chain a coroutine, which the caller awaits
            return super().__call__(request)

    for hook in ("process_view", "process_exception", "process_template_response"):
        if hasattr(wrapped, hook):
            setattr(Bypassed, hook, _unless_api_key(getattr(wrapped, hook)))
    Bypassed.__name__ = Bypassed.__qualname__ = wrapped.__name__
    Bypassed.__module__, Bypassed.__doc__ = __name__, f"{wrapped.__name__}, except for API-key requests."
    return Bypassed


def _unless_api_key(method):
    def hook(self, request, *args, **kwargs):
        return None if is_api_key_request(request) else method(self, request, *args, **kwargs)

    hook.__name__ = method.__name__
    return hook


# The wrapped middlewares, named in MIDDLEWARE (config.settings.base).
WhiteNoiseMiddleware = bypassed_for_api_keys("whitenoise.middleware.WhiteNoiseMiddleware")
SessionMiddleware = bypassed_for_api_keys("django.contrib.sessions.middleware.SessionMiddleware")
AuthenticationMiddleware = bypassed_for_api_keys("django.contrib.auth.middleware.AuthenticationMiddleware")
MessageMiddleware = bypassed_for_api_keys("django.contrib.messages.middleware.MessageMiddleware")
HtmxMiddleware = bypassed_for_api_keys("django_htmx.middleware.HtmxMiddleware")
