"""/metrics: the contact-center gauges in the Prometheus text format, for loopback or the metrics token only."""

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from reporting.metrics import collector
from tests.agents.factories import AgentFactory
from tests.crm.factories import InteractionFactory, QueueFactory, WebhookDeliveryFactory

pytestmark = pytest.mark.django_db


def _samples(response):
    families = text_string_to_metric_families(response.content.decode())
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples}


@pytest.fixture(autouse=True)
def _fresh_gauges(settings):
    settings.METRICS_TOKEN = "s3cret-metrics"
    collector._computed_at = float("-inf")


def test_metrics_expose_waiting_oldest_wait_agents_breaches_and_backlogs(client):
    billing = QueueFactory(name="Billing")
    InteractionFactory(queue=billing, queued_at=timezone.now() - timedelta(seconds=120))
    InteractionFactory(queue=billing)
    AgentFactory(status="available")
    AgentFactory(status="available")
    AgentFactory(status="on_break")
    WebhookDeliveryFactory()

    response = client.get("/metrics")  # the test client's REMOTE_ADDR is 127.0.0.1

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    samples = _samples(response)
    assert samples[("switchboard_interactions_waiting", (("queue", "Billing"),))] == 2
    assert 119 <= samples[("switchboard_oldest_wait_seconds", (("queue", "Billing"),))] < 180
    assert samples[("switchboard_agents", (("status", "available"),))] == 2
    assert samples[("switchboard_agents", (("status", "on_break"),))] == 1
    assert samples[("switchboard_agents", (("status", "busy"),))] == 0
    assert samples[("switchboard_sla_breaches", ())] == 0
    assert samples[("switchboard_outbox_backlog", (("outbox", "webhooks"),))] == 1
    assert samples[("switchboard_outbox_backlog", (("outbox", "deliveries"),))] == 0


def test_gauges_are_computed_once_per_scrape_interval(client, settings, django_assert_num_queries):
    settings.METRICS_CACHE_SECONDS = 60
    client.get("/metrics")
    before = collector.computations
    InteractionFactory(queue=QueueFactory(name="Sales"))

    with django_assert_num_queries(0):
        response = client.get("/metrics")

    assert collector.computations == before
    assert ("switchboard_interactions_waiting", (("queue", "Sales"),)) not in _samples(response)


def test_remote_caller_without_the_token_is_refused(client):
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 403
    assert b"switchboard_" not in response.content


def test_a_forwarded_request_is_not_loopback(client):
    response = client.get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert response.status_code == 403


def test_remote_caller_with_a_wrong_token_is_refused(client):
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.7", HTTP_AUTHORIZATION="Bearer wrong")
    assert response.status_code == 403


def test_remote_caller_with_the_token_gets_the_metrics(client):
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.7", HTTP_AUTHORIZATION="Bearer s3cret-metrics")
    assert response.status_code == 200
    assert b"switchboard_agents" in response.content
