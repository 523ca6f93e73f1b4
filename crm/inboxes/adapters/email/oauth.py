"""OAuth 2.0 for mailboxes that refuse passwords (Microsoft 365, Gmail): the refresh-token grant of RFC 6749 §6.

An e-mail inbox with ``oauth_token_url`` logs in to IMAP and SMTP with XOAUTH2 instead of the password in its URLs.
Its settings hold what the provider issued when an administrator consented:

* ``oauth_token_url`` — the provider's token endpoint (``https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token``,
  ``https://oauth2.googleapis.com/token``);
* ``oauth_client_id`` and ``oauth_client_secret`` — the application registered with the provider;
* ``oauth_refresh_token`` — the long-lived grant; ``oauth_scope`` — optional, sent with each refresh.

``refresh_access_token`` trades the refresh token for a short-lived access token. The provider saying the grant is
no longer good (``invalid_grant``: revoked, expired, the password changed; ``invalid_client``, ``unauthorized_client``)
raises ``AuthenticationFailed``, which moves the inbox to "re-authorisation required"; a provider that is down or busy
raises ``TemporaryFailure``. The POST goes through the webhooks' request-forgery guard (``webhook_post``): only public
addresses unless ``WEBHOOK_ALLOW_PRIVATE_TARGETS``, no redirects followed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from crm.inboxes.adapters.base import AuthenticationFailed, PermanentFailure, TemporaryFailure, json_object
from crm.webhooks.services import UnsafeTarget, webhook_post

OAUTH_SETTINGS = ("oauth_token_url", "oauth_client_id", "oauth_client_secret", "oauth_refresh_token", "oauth_scope")
OAUTH_SECRETS = ("oauth_client_secret", "oauth_refresh_token")
_REQUIRED = ("oauth_token_url", "oauth_client_id", "oauth_refresh_token")
_GRANT_REFUSED = {"invalid_grant", "invalid_client", "unauthorized_client", "unauthorized"}
DEFAULT_EXPIRES_IN = 3600


@dataclass(frozen=True)
class AccessToken:
    value: str
    expires_in: int  # seconds, as the provider said
    refresh_token: str | None = None  # a new refresh token, when the provider rotates them (Microsoft does)


def oauth_configured(settings: Mapping[str, Any]) -> bool:
    return bool(settings.get("oauth_token_url"))


def validate_oauth_settings(settings: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """(cleaned, errors) for the ``oauth_*`` settings: all of the required ones or none."""
    cleaned = {key: str(settings.get(key) or "").strip() for key in OAUTH_SETTINGS}
    errors: dict[str, str] = {}
    if not any(cleaned[key] for key in _REQUIRED):
        return {}, {}
    for key in _REQUIRED:
        if not cleaned[key]:
            errors[key] = "required when the mailbox logs in with OAuth (oauth_token_url is set)"
    url_key = "oauth_token_url"
    url = cleaned[url_key]
    parts = urlsplit(url)
    if url and (parts.scheme not in ("https", "http") or not parts.hostname or parts.username or parts.password):
        errors[url_key] = "the provider's token endpoint, an https:// URL without user or password"
    if not settings.get("imap_url") and not settings.get("smtp_url"):
        errors[url_key] = "OAuth needs imap_url or smtp_url: the server the token logs in to"
    return {key: value for key, value in cleaned.items() if value}, errors


def refresh_access_token(settings: Mapping[str, Any]) -> AccessToken:
    """A fresh access token for the inbox's refresh token (see the module's docstring for the failures)."""
    form = {
        "grant_type": "refresh_token",
        "refresh_token": settings["oauth_refresh_token"],
        "client_id": settings["oauth_client_id"],
    }
    if settings.get("oauth_client_secret"):
        form["client_secret"] = settings["oauth_client_secret"]
    if settings.get("oauth_scope"):
        form["scope"] = settings["oauth_scope"]
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    try:
        status, body = webhook_post(url=settings["oauth_token_url"], body=urlencode(form).encode(), headers=headers)
    except UnsafeTarget as exc:
        raise PermanentFailure(f"the OAuth token endpoint is not allowed: {exc}") from None
    except httpx.HTTPError as exc:
        raise TemporaryFailure(f"the OAuth token endpoint could not be reached: {type(exc).__name__}") from None
    answer = json_object(body)
    if status == 200 and isinstance(answer.get("access_token"), str) and answer["access_token"]:
        expires_in = answer.get("expires_in", DEFAULT_EXPIRES_IN)
        rotated = answer.get("refresh_token")
        return AccessToken(
            value=answer["access_token"],
            expires_in=int(expires_in) if str(expires_in).isdigit() else DEFAULT_EXPIRES_IN,
            refresh_token=rotated if isinstance(rotated, str) and rotated else None,
        )
    error = str(answer.get("error") or "")
    described = f"{error}: {answer.get('error_description')}" if answer.get("error_description") else error
    reason = f"the OAuth provider refused the refresh token ({described or f'HTTP {status}'})"
    if status in (400, 401) and (error in _GRANT_REFUSED or status == 401):
        raise AuthenticationFailed(reason, code=error or str(status))
    if status == 429 or status >= 500:
        raise TemporaryFailure(reason, code=str(status))
    raise PermanentFailure(reason, code=error or str(status))
