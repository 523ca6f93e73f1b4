"""Browser middleware left out of the way of requests no browser session can make: API-key requests (``/api/`` with
``Authorization: Bearer …``) and the providers' inbound endpoints (``/inbound/…``).

An API-key request is authenticated by its key alone: ``ApiKeyAuthentication`` answers a bad key with 401 and never
falls back to a session. An inbound request (an MTA's raw mail, Twilio's webhooks) is authenticated by the secret
token in its URL or by the provider's signature, and its views read no user, session or flash message. So neither
has a use for a session, flash messages, htmx or static files (and without a user from a session, the signed-in
user's language preference, ``agents.preferences``, steps aside by itself). Each of those middlewares is listed in
``MIDDLEWARE`` wrapped by ``bypassed``: for such a request the wrapper calls the next one directly; for every other
request (the console, the admin, the login pages, the API used with a session) the middleware runs as before.

The audit context (``config.audit``) steps aside for inbound requests too: it records changes made by a user or an
API key, and an inbound request is neither (an anonymous request is on record in the domain's own logs, with or
without the context). An API-key request keeps it: its writes are on record with its key and address.

An inbound call skips even more: ``InboundShortcutMiddleware``, right after the request id, the replica router and
the metrics, calls its view directly (see there). So the rest of this list applies to API-key requests.

What still runs for every request: the request id and access log, the replica router, the metrics, the security
headers, CSRF protection (cheap for the API's and the inbound views, which are exempt; ``check --deploy`` wants it
by name), the language from ``Accept-Language`` (API messages are translated, and the language a request runs in
must not be the previous request's), ``CommonMiddleware``, the clickjacking header and django-axes (which guards the
login pages, not the API nor the providers: an API key or an inbox token is never a password).
"""

import functools

from django.conf import settings
from django.urls import URLResolver, get_resolver
from django.urls.resolvers import ResolverMatch
from django.utils import translation
from django.utils.module_loading import import_string

API_PREFIX = "/api/"
INBOUND_PREFIX = "/inbound/"


def is_api_key_request(request) -> bool:
    """``/api/…`` with a Bearer credential: authenticated by ``ApiKeyAuthentication`` or refused by it."""
    return request.path_info.startswith(API_PREFIX) and request.META.get("HTTP_AUTHORIZATION", "")[:7].lower() == (
        "bearer "
    )


def is_inbound_request(request) -> bool:
    """A provider's call to an inbox (``/inbound/…``): authenticated by its URL's token or its signature."""
    return request.path_info.startswith(INBOUND_PREFIX)


def is_sessionless_request(request) -> bool:
    """A request no browser session can make: an API-key request or a provider's inbound call."""
    return is_inbound_request(request) or is_api_key_request(request)


def bypassed(dotted_path: str, when=is_sessionless_request) -> type:
    """A subclass of ``dotted_path``'s middleware that steps aside for the requests ``when`` picks (a subclass, so
    that Django's checks still find the session, authentication and messages middleware the admin needs)."""
    wrapped = import_string(dotted_path)

    class Bypassed(wrapped):
        def __call__(self, request):
            if when(request):
                return self.get_response(request)  # in an async chain a coroutine, which the caller awaits
            return super().__call__(request)

    for hook in ("process_view", "process_exception", "process_template_response"):
        if hasattr(wrapped, hook):
            setattr(Bypassed, hook, _unless(when, getattr(wrapped, hook)))
    Bypassed.__name__ = Bypassed.__qualname__ = wrapped.__name__
    Bypassed.__module__, Bypassed.__doc__ = __name__, f"{wrapped.__name__}, except where {when.__name__}."
    return Bypassed


def _unless(when, method):
    def hook(self, request, *args, **kwargs):
        return None if when(request) else method(self, request, *args, **kwargs)

    hook.__name__ = method.__name__
    return hook


# The wrapped middlewares, named in MIDDLEWARE (config.settings.base).
WhiteNoiseMiddleware = bypassed("whitenoise.middleware.WhiteNoiseMiddleware")
SessionMiddleware = bypassed("django.contrib.sessions.middleware.SessionMiddleware")
AuthenticationMiddleware = bypassed("django.contrib.auth.middleware.AuthenticationMiddleware")
MessageMiddleware = bypassed("django.contrib.messages.middleware.MessageMiddleware")
HtmxMiddleware = bypassed("django_htmx.middleware.HtmxMiddleware")
AuditMiddleware = bypassed("config.audit.AuditMiddleware", when=is_inbound_request)


class InboundShortcutMiddleware:
    """A provider's inbound call (``/inbound/…``: an MTA's raw mail, Twilio's webhooks) goes from here straight to
    its view, past every middleware after this one.

    Those are the browser's: security headers, language, ``CommonMiddleware``, session, CSRF, authentication, audit,
    preferences, messages, clickjacking, htmx, django-axes. An inbound view is CSRF-exempt, answers a machine
    (JSON or TwiML, no page to frame), reads no user, session or language, and its caller is authenticated by the
    URL's token or its signature, never a password. What they would still do for it is done here: the host is
    checked against ``ALLOWED_HOSTS`` (a bad one answers 400, as ``CommonMiddleware`` makes it), and the request
    runs in the site's language, whatever the thread ran before. A plain-HTTP call while ``SECURE_SSL_REDIRECT`` is
    on takes the whole chain, so it is redirected as before. An unknown ``/inbound/`` path answers 404 (no
    trailing-slash redirect: a POST cannot follow one).

    Kept before it (``MIDDLEWARE``): the request id and access log, the replica router, the metrics (labelled by
    the view, as ``request.resolver_match`` is set here). Under load this is about a tenth of an accepted mail's
    CPU (``bench/email_accept_cpu.py``).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_inbound_request(request) or (settings.SECURE_SSL_REDIRECT and not request.is_secure()):
            return self.get_response(request)
        request.get_host()  # DisallowedHost (400) for a host not in ALLOWED_HOSTS
        translation.activate(settings.LANGUAGE_CODE)
        match = request.resolver_match = _resolved(get_resolver(getattr(request, "urlconf", None)), request.path_info)
        return match.func(request, *match.args, **match.kwargs)


@functools.lru_cache(maxsize=1024)
def _resolved(resolver: URLResolver, path: str) -> ResolverMatch:
    """``resolve(path)``, once per process for each inbound path (an inbox's URL is the same for each of its mails;
    Django's resolver tries the site's patterns in order each time). Keyed by the resolver itself, which Django makes
    anew when the URL configuration changes (``clear_url_caches``); a path that resolves nowhere raises ``Resolver404``
    and is not kept. The match is not changed by anyone after: the view reads its arguments, the metrics its name."""
    return resolver.resolve(path)
