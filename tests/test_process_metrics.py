"""What each web process counts for /metrics (config.metrics): request latency per view, method and status, and the
database statements each view ran; routing decisions; all next to the contact-center gauges."""

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from agents.choices import AgentStatus
from crm.choices import InteractionStatus
from crm.routing.services.router import route_next
from tests.agents.factories import AgentFactory
from tests.crm.factories import QueueFactory, interaction_in_status

pytestmark = pytest.mark.django_db


def _samples(client) -> dict:
    text = client.get("/metrics").content.decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _requests(samples, view: str, status: str) -> float:
    key = ("switchboard_http_request_duration_seconds_count", (("method", "GET"), ("status", status), ("view", view)))
    return samples.get(key, 0.0)


def test_requests_are_timed_per_view_and_status_and_their_statements_counted(client):
    before = _samples(client)

    assert client.get("/readyz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/api/v1/interactions/").status_code in (401, 403)

    after = _samples(client)
    assert _requests(after, "readyz", "200") == _requests(before, "readyz", "200") + 2
    view = "v1:crm-api:interaction-list"
    refused = sum(_requests(after, view, status) - _requests(before, view, status) for status in ("401", "403"))
    assert refused == 1
    statements = ("switchboard_db_queries_total", (("view", "readyz"),))
    assert after[statements] >= before.get(statements, 0) + 2  # the readiness probe asks the database each time
    # the histogram is labelled by the URL's name, never by the path: ids do not multiply the series
    assert not any("/api/" in value for key in after for _name, value in key[1])


def test_routing_decisions_are_counted_by_outcome(client):
    queue = QueueFactory(channels=["chat"], auto_accept=True)
    AgentFactory(status=AgentStatus.AVAILABLE, status_changed_at=timezone.now(), team=queue.team)
    interaction_in_status(InteractionStatus.QUEUED, queue=queue)
    key = ("switchboard_routing_decisions_total", (("outcome", "active"),))
    before = _samples(client).get(key, 0.0)

    assert route_next(queue=queue) is not None

    assert _samples(client)[key] == before + 1


def test_a_task_that_raises_is_counted_with_its_run_time(client, settings):
    from crm.routing.tasks import route_pending_task

    failures = ("switchboard_celery_task_failures_total", (("task", "crm.tasks.route_pending_task"),))
    runs = (
        "switchboard_celery_task_runtime_seconds_count",
        (("state", "FAILURE"), ("task", "crm.tasks.route_pending_task")),
    )
    before = _samples(client)

    result = route_pending_task.apply(args=("not an argument it takes",))  # runs here, as a worker would, and fails

    assert result.failed()
    after = _samples(client)
    assert after[failures] == before.get(failures, 0.0) + 1
    assert after[runs] == before.get(runs, 0.0) + 1
