"""``/metrics`` in the Prometheus text format: the contact-center gauges an operator watches on Grafana.

prometheus-client (not django-prometheus): we need custom collectors computed from a few cheap aggregate
queries, cached for one scrape interval, and one shared text endpoint; django-prometheus' model and middleware
instrumentation would add per-request work and a second set of names we do not need.

The gauges are computed at most once per ``METRICS_CACHE_SECONDS`` per process, whatever the number of scrapes,
so several Prometheus servers scraping many web processes never cost more than a handful of queries each. The
process metrics (HTTP latency per view, statements, Celery tasks, routing decisions, open websockets) follow
them: ``config.metrics``.
"""

from __future__ import annotations

import hmac
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from agents.models import Agent
from config.metrics import process_registry
from crm.choices import DeliveryStatus, EscalationKind, SurveyStatus, WebhookDeliveryStatus
from crm.inboxes.models import Delivery
from crm.live.selectors import live_queue_stats
from crm.sla.models import Escalation
from crm.surveys.models import Survey
from crm.webhooks.models import WebhookDelivery

LOOPBACK = {"127.0.0.1", "::1"}


def _snapshot() -> list[GaugeMetricFamily]:
    now = timezone.now()
    waiting = GaugeMetricFamily(
        "switchboard_interactions_waiting", "Interactions queued and not yet assigned, per queue", labels=["queue"]
    )
    oldest = GaugeMetricFamily(
        "switchboard_oldest_wait_seconds", "Age of the oldest queued interaction, per queue", labels=["queue"]
    )
    # the wallboard's own figures (one aggregate over open work), so the two never disagree
    for stats in live_queue_stats():
        waiting.add_metric([stats["name"]], stats["waiting"])
        oldest.add_metric([stats["name"]], float(stats["oldest_waiting_seconds"] or 0))

    agents = GaugeMetricFamily("switchboard_agents", "Agents by presence status", labels=["status"])
    counts = dict(Agent.objects.values_list("status").annotate(n=Count("id")))
    for status, _label in Agent._meta.get_field("status").choices:
        agents.add_metric([status], counts.get(status, 0))

    # as the wallboard counts them: the breach of each clock run (step 0), in the last hour; a bounded range, where
    # a count of every escalation row ever written would grow with the history
    breaches = GaugeMetricFamily("switchboard_sla_breaches", "SLA breaches in the last hour")
    breaches.add_metric(
        [],
        Escalation.objects.filter(kind=EscalationKind.BREACH, step=0, created_at__gte=now - timedelta(hours=1)).count(),
    )

    backlog = GaugeMetricFamily("switchboard_outbox_backlog", "Outbox rows waiting to be sent", labels=["outbox"])
    backlog.add_metric(["webhooks"], WebhookDelivery.objects.filter(status=WebhookDeliveryStatus.PENDING).count())
    backlog.add_metric(["surveys"], Survey.objects.filter(status=SurveyStatus.PENDING).count())
    backlog.add_metric(["deliveries"], Delivery.objects.filter(status=DeliveryStatus.PENDING).count())
    return [waiting, oldest, agents, breaches, backlog]


class ContactCenterCollector:
    """Yields the cached gauges; recomputes them when older than ``METRICS_CACHE_SECONDS``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._computed_at = float("-inf")
        self._families: list[GaugeMetricFamily] = []
        self.computations = 0

    def collect(self):
        with self._lock:
            if time.monotonic() - self._computed_at >= settings.METRICS_CACHE_SECONDS:
                self._families = _snapshot()
                self._computed_at = time.monotonic()
                self.computations += 1
            return list(self._families)


collector = ContactCenterCollector()
registry = CollectorRegistry(auto_describe=False)
registry.register(collector)


def _allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].encode(), token.encode()):
        return True
    # The socket's peer, not X-Forwarded-For: a proxy in front must not turn every caller into loopback.
    return request.META.get("REMOTE_ADDR") in LOOPBACK and "HTTP_X_FORWARDED_FOR" not in request.META


def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return HttpResponse("metrics are served to loopback or with the metrics token\n", status=403)
    # the gauges above, then what the processes counted (HTTP, queries, tasks, routing, sockets: config.metrics)
    body = generate_latest(registry) + generate_latest(process_registry())
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
