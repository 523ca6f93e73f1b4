"""The process metrics every part of Switchboard records (prometheus-client), and how a process exposes them.

Counted where they happen, cheaply (an increment, an observation):

* HTTP: ``switchboard_http_request_duration_seconds{view,method,status}`` and the database statements each request
  ran, ``switchboard_db_queries_total{view}`` (``MetricsMiddleware``; ``view`` is the URL pattern's name, never
  the path, so ids do not multiply the series);
* Celery: ``switchboard_celery_task_runtime_seconds{task,state}``, ``switchboard_celery_task_failures_total{task}``
  and ``switchboard_celery_task_queue_lag_seconds{task}`` — from publishing to the start of the run (a
  ``sent_at`` header set at publish, as the request id is);
* routing: ``switchboard_routing_decisions_total{outcome}`` (``crm.routing``); open websockets:
  ``switchboard_websockets_open{socket}`` (``crm.live``).

The contact-center gauges (queues, agents, breaches, outboxes) are computed on scrape by ``reporting.metrics``.

Several processes (uvicorn ``--workers``, Celery's prefork children) each count their own: set
``PROMETHEUS_MULTIPROC_DIR`` to an empty directory per host, shared by that host's processes, and ``/metrics``
(or a worker's ``SWITCHBOARD_WORKER_METRICS_PORT``) adds them up — prometheus-client's multiprocess mode.
"""

from __future__ import annotations

import logging
import os
import time

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # prometheus-client writes there from its first metric on
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

from celery.signals import before_task_publish, task_failure, task_postrun, task_prerun, worker_ready  # noqa: E402
from django.db import connection  # noqa: E402
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, start_http_server  # noqa: E402

logger = logging.getLogger(__name__)

_HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_TASK_BUCKETS = (0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0, 600.0)

http_duration = Histogram(
    "switchboard_http_request_duration_seconds",
    "Time to answer an HTTP request, per view, method and status",
    ["view", "method", "status"],
    buckets=_HTTP_BUCKETS,
)
db_queries = Counter("switchboard_db_queries", "Database statements run by HTTP requests, per view", ["view"])
task_runtime = Histogram(
    "switchboard_celery_task_runtime_seconds", "Run time of Celery tasks", ["task", "state"], buckets=_TASK_BUCKETS
)
task_failures = Counter("switchboard_celery_task_failures", "Celery tasks that raised", ["task"])
task_queue_lag = Histogram(
    "switchboard_celery_task_queue_lag_seconds",
    "Time from publishing a task to a worker starting it",
    ["task"],
    buckets=_TASK_BUCKETS,
)
routing_decisions = Counter(
    "switchboard_routing_decisions", "Routing decisions: work offered or assigned to an agent", ["outcome"]
)
websockets_open = Gauge(
    "switchboard_websockets_open", "Open websockets, per kind", ["socket"], multiprocess_mode="livesum"
)


def multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def process_registry() -> CollectorRegistry:
    """What this process exposes: its own metrics, or with ``PROMETHEUS_MULTIPROC_DIR`` every process's on the host."""
    if not multiprocess():
        return REGISTRY
    from prometheus_client import multiprocess as mp

    registry = CollectorRegistry()
    mp.MultiProcessCollector(registry)
    return registry


# --- HTTP ------------------------------------------------------------------------------------------------------------


class MetricsMiddleware:
    """Time each request and count its statements, labelled by the view's URL name."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        statements = [0]

        def count(execute, sql, params, many, context):
            statements[0] += 1
            return execute(sql, params, many, context)

        started = time.perf_counter()
        with connection.execute_wrapper(count):
            response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or match._func_path) if match is not None else "unresolved"
        http_duration.labels(view, request.method, str(response.status_code)).observe(time.perf_counter() - started)
        if statements[0]:
            db_queries.labels(view).inc(statements[0])
        return response


# --- Celery ----------------------------------------------------------------------------------------------------------

_started: dict[str, float] = {}


@before_task_publish.connect(dispatch_uid="switchboard.metrics.publish")
def _stamp(headers=None, **kwargs):
    if headers is not None and "sent_at" not in headers:
        headers["sent_at"] = time.time()


@task_prerun.connect(dispatch_uid="switchboard.metrics.prerun")
def _task_started(task_id=None, task=None, **kwargs):
    _started[task_id] = time.perf_counter()
    sent_at = getattr(task.request, "sent_at", None) if task is not None else None
    if isinstance(sent_at, int | float) and not task.request.is_eager:
        task_queue_lag.labels(task.name).observe(max(time.time() - sent_at, 0.0))


@task_postrun.connect(dispatch_uid="switchboard.metrics.postrun")
def _task_finished(task_id=None, task=None, state=None, **kwargs):
    started = _started.pop(task_id, None)
    if started is not None and task is not None:
        task_runtime.labels(task.name, state or "UNKNOWN").observe(time.perf_counter() - started)


@task_failure.connect(dispatch_uid="switchboard.metrics.failure")
def _task_failed(sender=None, **kwargs):
    task_failures.labels(getattr(sender, "name", "unknown")).inc()


@worker_ready.connect(dispatch_uid="switchboard.metrics.worker")
def _serve_worker_metrics(**kwargs):
    """A worker has no HTTP server: with ``CELERY_METRICS_PORT`` it serves its (and its children's) metrics."""
    from django.conf import settings

    port, address = settings.SWITCHBOARD_WORKER_METRICS_PORT, settings.SWITCHBOARD_WORKER_METRICS_ADDRESS
    if not port:
        return
    if not multiprocess():
        logger.warning("worker metrics without PROMETHEUS_MULTIPROC_DIR: the pool's child processes are not counted")
    start_http_server(port, addr=address, registry=process_registry())
    logger.info("worker metrics on %s:%s", address, port)
