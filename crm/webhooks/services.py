"""Webhooks: subscriptions, the delivery outbox, signed delivery with backoff, and the request-forgery guard.

``webhook_emit`` writes one ``WebhookDelivery`` per matching subscription in the caller's transaction
(the outbox), and publishes them on commit; the beat sweep ``webhook_publish_due`` publishes whatever
that publish lost and whatever is due for a retry. ``webhook_deliver`` locks one delivery with SKIP
LOCKED, so two workers holding the same message never POST it twice at once.

Each POST carries ``{"id", "type", "created_at", "data"}`` with ``Switchboard-Event-Id`` and
``Switchboard-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>``.

Targets must be http(s) on public addresses unless ``WEBHOOK_ALLOW_PRIVATE_TARGETS``: every address the
host resolves to is checked when the subscription is saved and again before each POST, and the POST goes
to the checked address (with the original Host and TLS server name), so DNS rebinding cannot slip past.
``config.outbound`` says which addresses are private (IPv4 inside IPv6 too), reads answers up to
``WEBHOOK_RESPONSE_MAX_BYTES`` and redacts the URLs we log; URLs with ``user:password@`` are refused.
"""

import hashlib
import hmac
import json
import logging
import random
import secrets
import socket
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.outbound import address_is_private, read_at_most, redact_url, redact_urls_in, url_has_userinfo
from config.tasks import task_named
from crm.choices import WEBHOOK_EVENT_TYPES, WebhookDeliveryStatus

from .models import Webhook, WebhookAttempt, WebhookDelivery
from .outbox import PUBLISH_LEASE_SECONDS, SWEEP_BATCH, outbox_lease_due
from .subscribers import webhook_subscriber_ids

logger = logging.getLogger(__name__)

D = WebhookDeliveryStatus
WEBHOOK_DELIVER_TASK = "crm.tasks.webhook_deliver_task"
# --- target validation -------------------------------------------------------------------------------------------


class UnsafeTarget(ValueError):
    """The URL may not be called: wrong scheme, unresolvable, or an address inside our network."""


def resolve_target(url: str) -> list[str]:
    """The addresses a POST to ``url`` may use; ``UnsafeTarget`` if there is none it is allowed to use."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeTarget("Only http and https URLs are allowed.")
    host = parts.hostname
    if not host:
        raise UnsafeTarget("The URL has no host.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeTarget("The URL's port is not valid.") from None
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeTarget(f"The host '{host}' does not resolve.") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        # every address, not just the first: a host may resolve to a public and a private one
        blocked = [a for a in addresses if address_is_private(a)]
        if blocked:
            raise UnsafeTarget(
                f"The host '{host}' resolves to a private, loopback or link-local address ({blocked[0]}); "
                "such targets are refused (WEBHOOK_ALLOW_PRIVATE_TARGETS)."
            )
    return addresses


def webhook_check_url(url: str) -> str:
    """The validator of a subscription's URL, shared by the API and the admin form (``ValidationError`` on url)."""
    url = (url or "").strip()
    if url_has_userinfo(url):
        message = "Remove the user name and password (user:password@) from the URL: they would be written to logs."
        raise ValidationError({"url": message})
    try:
        resolve_target(url)
    except UnsafeTarget as exc:
        raise ValidationError({"url": str(exc)}) from None
    return url


def webhook_check_events(events: Iterable[str]) -> list[str]:
    events = list(dict.fromkeys(str(e).strip() for e in events))
    if not events:
        raise ValidationError({"events": _('Subscribe to at least one event type (or "*" for all).')})
    unknown = [e for e in events if e != "*" and e not in WEBHOOK_EVENT_TYPES]
    if unknown:
        names = {"unknown": ", ".join(unknown), "known": ", ".join(WEBHOOK_EVENT_TYPES)}
        raise ValidationError({"events": _("Unknown event type(s): %(unknown)s. Known: %(known)s, *.") % names})
    return events


# --- subscriptions ----------------------------------------------------------------------------------------------


def webhook_create(*, url: str, events: Iterable[str], secret: str = "", name: str = "", created_by=None) -> Webhook:
    """Subscribe ``url`` to ``events``. Without a ``secret`` one is generated (read it back once from the API)."""
    webhook = Webhook(
        url=webhook_check_url(url),
        events=webhook_check_events(events),
        secret=secret or secrets.token_hex(32),
        name=name,
        created_by=created_by,
    )
    webhook.full_clean(exclude=["created_by"])
    webhook.save(force_insert=True)
    return webhook


def webhook_update(*, webhook: Webhook, **changes: Any) -> Webhook:
    """Change url, events, secret, name or is_active. Re-activating clears the failure record."""
    fields = []
    for name, value in changes.items():
        if name == "url":
            value = webhook_check_url(value)
        elif name == "events":
            value = webhook_check_events(value)
        elif name not in ("secret", "name", "is_active"):
            raise ValidationError({name: _("This field cannot be changed.")})
        setattr(webhook, name, value)
        fields.append(name)
    if changes.get("is_active"):
        webhook.failure_count, webhook.failing_since, webhook.disabled_at, webhook.disabled_reason = 0, None, None, ""
        fields += ["failure_count", "failing_since", "disabled_at", "disabled_reason"]
    webhook.full_clean(exclude=["created_by"])
    webhook.save(update_fields=[*fields, "updated_at"])
    return webhook


def webhook_delete(*, webhook: Webhook) -> None:
    webhook.delete()


# --- the outbox ---------------------------------------------------------------------------------------------------


def _publish(delivery_ids: list[int]) -> None:
    for delivery_id in delivery_ids:
        try:
            task_named(WEBHOOK_DELIVER_TASK).apply_async((delivery_id,), expires=PUBLISH_LEASE_SECONDS)
        except Exception:
            # the rows are committed: the sweep publishes them once the lease runs out
            logger.exception("webhooks: could not publish delivery %s; the sweep will", delivery_id)


def webhook_emit(*, type: str, data: Mapping[str, Any], at: datetime | None = None) -> list[WebhookDelivery]:
    """Record event ``type`` for every active subscription to it, in the caller's transaction; publish on commit.

    One event id for all subscribers, so a receiver subscribed twice can tell it is the same event.
    """
    return webhook_emit_many(type=type, events=[data], at=at)


def webhook_emit_many(
    *,
    type: str,
    events: Sequence[Mapping[str, Any]],
    at: datetime | None = None,
    ats: Sequence[datetime] | None = None,
) -> list[WebhookDelivery]:
    """``webhook_emit`` for several events of one type (a sweep's breaches): one INSERT whatever their number (the
    subscriptions come from a per-process cache).

    ``ats``, when given, is each event's own time (a router's batch: one assignment after another), else ``at``.
    """
    if type not in WEBHOOK_EVENT_TYPES:
        raise ValueError(f"Unknown webhook event type {type!r}")
    if not events:
        return []
    webhook_ids = webhook_subscriber_ids(type=type)
    if not webhook_ids:
        return []
    now = timezone.now()
    rows = []
    for index, data in enumerate(events):
        event_id = uuid.uuid4()
        created_at = ats[index] if ats is not None else (at or now)
        payload = json.loads(
            json.dumps(
                {"id": str(event_id), "type": type, "created_at": created_at.isoformat(), "data": dict(data)},
                cls=DjangoJSONEncoder,
            )
        )
        rows += [
            WebhookDelivery(
                webhook_id=webhook_id,
                event_id=event_id,
                event_type=type,
                payload=payload,
                next_attempt_at=now,
                leased_until=now + timedelta(seconds=PUBLISH_LEASE_SECONDS),
                created_at=now,
            )
            for webhook_id in webhook_ids
        ]
    deliveries = WebhookDelivery.objects.bulk_create(rows)
    ids = [d.pk for d in deliveries]
    transaction.on_commit(lambda: _publish(ids))
    return deliveries


def webhook_publish_due(*, limit: int = SWEEP_BATCH) -> int:
    """Publish pending deliveries that are due and not in flight (the beat sweep). Returns how many."""
    now = timezone.now()
    return outbox_lease_due(
        due=WebhookDelivery.objects.filter(status=D.PENDING, next_attempt_at__lte=now),
        order_by="next_attempt_at",
        now=now,
        limit=limit,
        publish=_publish,
    )


def webhook_resend(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """A supervisor sends a delivery again (delivered or given up): same event id, so receivers can de-duplicate."""
    now = timezone.now()
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=D.PENDING, next_attempt_at=now, leased_until=now + timedelta(seconds=PUBLISH_LEASE_SECONDS)
        )
        transaction.on_commit(lambda: _publish([delivery.pk]))
    delivery.refresh_from_db()
    return delivery


# --- delivery -----------------------------------------------------------------------------------------------------


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The ``Switchboard-Signature`` header value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def retry_delay(attempts: int) -> float:
    """Exponential backoff with jitter: a random wait in [½, 1] × min(max, base × 2^(attempts-1))."""
    ceiling = min(settings.WEBHOOK_RETRY_MAX_DELAY_SECONDS, settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (attempts - 1))
    return ceiling * (0.5 + random.random() / 2)  # noqa: S311 (jitter, not security)


def webhook_post(*, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """POST to a checked address of ``url``'s host, never following redirects (they could point inside); the status
    code and at most ``WEBHOOK_RESPONSE_MAX_BYTES`` of the answer, read as it streams in (the bridge adapter's too)."""
    addresses = resolve_target(url)
    parts = urlsplit(url)
    address = addresses[0]
    host_in_url = f"[{address}]" if ":" in address else address
    netloc = f"{host_in_url}:{parts.port}" if parts.port else host_in_url
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    timeout = httpx.Timeout(settings.WEBHOOK_TIMEOUT_SECONDS, connect=min(5.0, settings.WEBHOOK_TIMEOUT_SECONDS))
    headers = {**headers, "Host": parts.netloc.rsplit("@", 1)[-1], "Accept-Encoding": "identity"}
    with (
        httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client,
        client.stream("POST", pinned, content=body, headers=headers, extensions=extensions) as response,
    ):
        return response.status_code, read_at_most(response, settings.WEBHOOK_RESPONSE_MAX_BYTES)


def webhook_deliver(*, delivery_id: int) -> str | None:
    """POST one pending, due delivery and record the attempt; returns the resulting status (None: nothing to do).

    The row stays locked during the POST: a second worker with the same message skips it, and a worker
    that dies mid-POST leaves it pending for the message's redelivery or the sweep.
    """
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("webhook")
            .filter(pk=delivery_id, status=D.PENDING)
            .first()
        )
        if delivery is None:
            return None
        now = timezone.now()
        if delivery.next_attempt_at > now + timedelta(seconds=1):
            return None  # a retry not yet due (a stale message): the sweep publishes it in time
        webhook = delivery.webhook
        if not webhook.is_active:
            delivery.status, delivery.leased_until = D.FAILED, None
            delivery.save(update_fields=["status", "leased_until"])
            WebhookAttempt.objects.create(delivery=delivery, attempted_at=now, error="subscription disabled")
            return delivery.status

        body = json.dumps(delivery.payload, separators=(",", ":")).encode()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Switchboard-Webhooks/1",
            "Switchboard-Event-Id": str(delivery.event_id),
            "Switchboard-Event-Type": delivery.event_type,
            "Switchboard-Signature": webhook_signature(secret=webhook.secret, timestamp=timestamp, body=body),
        }
        status_code, error = None, ""
        started = time.monotonic()
        try:
            status_code, answer = webhook_post(url=webhook.url, body=body, headers=headers)
            if not 200 <= status_code < 300:
                excerpt = answer.decode("utf-8", errors="replace")[:1000].strip()  # what the receiver said
                error = f"HTTP {status_code}" + (f": {excerpt}" if excerpt else "")
        except UnsafeTarget as exc:
            error = str(exc)
        except httpx.HTTPError as exc:
            error = redact_urls_in(f"{type(exc).__name__}: {exc}")[:2000]  # logged when the hook is disabled
        latency_ms = round((time.monotonic() - started) * 1000)
        now = timezone.now()
        WebhookAttempt.objects.create(
            delivery=delivery, attempted_at=now, status_code=status_code, latency_ms=latency_ms, error=error
        )
        delivery.attempts += 1
        delivery.last_status_code = status_code
        delivery.leased_until = None
        fields = ["attempts", "last_status_code", "leased_until", "status", "next_attempt_at", "delivered_at"]
        if not error:
            delivery.status, delivery.delivered_at = D.DELIVERED, now
            if webhook.failure_count or webhook.failing_since:
                Webhook.objects.filter(pk=webhook.pk).update(failure_count=0, failing_since=None)
        else:
            next_at = now + timedelta(seconds=retry_delay(delivery.attempts))
            if next_at - delivery.created_at > timedelta(seconds=settings.WEBHOOK_MAX_AGE_SECONDS):
                delivery.status = D.FAILED
            else:
                delivery.next_attempt_at = next_at
            _record_failure(webhook=webhook, now=now, error=error)
        delivery.save(update_fields=fields)
        return delivery.status


def _record_failure(*, webhook: Webhook, now: datetime, error: str) -> None:
    locked = Webhook.objects.select_for_update().get(pk=webhook.pk)
    locked.failure_count += 1
    locked.failing_since = locked.failing_since or now
    fields = ["failure_count", "failing_since"]
    failing_for = (now - locked.failing_since).total_seconds()
    if (
        locked.is_active
        and locked.failure_count >= settings.WEBHOOK_DISABLE_AFTER_FAILURES
        and failing_for >= settings.WEBHOOK_DISABLE_AFTER_SECONDS
    ):
        locked.is_active, locked.disabled_at = False, now
        locked.disabled_reason = (
            f"Disabled after {locked.failure_count} failed attempts in a row since "
            f"{locked.failing_since:%Y-%m-%d %H:%M} UTC; last error: {error}"
        )[:300]
        fields += ["is_active", "disabled_at", "disabled_reason"]
        transaction.on_commit(lambda: _notify_disabled(webhook_id=locked.pk))
    locked.save(update_fields=fields)


def _notify_disabled(*, webhook_id: int) -> None:
    """Tell the administrators (superusers with an e-mail address); the admin shows it too."""
    webhook = Webhook.objects.filter(pk=webhook_id).first()
    if webhook is None:
        return
    recipients = list(
        get_user_model()
        .objects.filter(is_superuser=True, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    url = redact_url(webhook.url)  # a URL saved before credentials were refused may still carry them
    logger.warning("webhooks: subscription %s (%s) disabled: %s", webhook.pk, url, webhook.disabled_reason)
    if recipients:
        try:
            send_mail(
                subject=f"Switchboard: webhook {webhook.name or url} was disabled",
                message=f"The webhook subscription {url} was disabled.\n\n{webhook.disabled_reason}\n\n"
                "Fix the receiver, then re-activate it in the admin or with PATCH /api/v1/webhooks/{id}/ "
                '{"is_active": true}.',
                from_email=None,
                recipient_list=recipients,
            )
        except Exception:
            logger.exception("webhooks: could not e-mail the administrators about webhook %s", webhook.pk)
