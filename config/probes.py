"""Liveness and readiness probes for load balancers and orchestrators.

`/healthz` answers as long as the process serves requests (liveness). `/readyz` answers 200 only when the
process can do useful work: the database answers and has every migration applied, Redis (cache, Channels)
answers, and the Celery broker accepts a connection. Otherwise 503 naming each check that failed.
"""

from __future__ import annotations

import redis
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from kombu import Connection

# A probe must answer quickly even when a dependency hangs: a load balancer times out in a few seconds.
PROBE_TIMEOUT_SECONDS = 2


def _check_database() -> str:
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        raise NotReady(f"{len(plan)} migrations not applied")
    return "ok"


def _check_redis() -> str:
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=PROBE_TIMEOUT_SECONDS, socket_connect_timeout=PROBE_TIMEOUT_SECONDS
    )
    try:
        client.ping()
    finally:
        client.close()
    return "ok"


def _check_broker() -> str:
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=PROBE_TIMEOUT_SECONDS) as conn:
        conn.ensure_connection(max_retries=1, timeout=PROBE_TIMEOUT_SECONDS)
    return "ok"


class NotReady(Exception):
    """A dependency answers but is not in a state to serve (e.g. migrations pending)."""


CHECKS = {"database": _check_database, "redis": _check_redis, "broker": _check_broker}


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    """Run every check; 200 when all pass, else 503 with the failing checks named and why."""
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except NotReady as exc:
            results[name] = f"down: {exc}"
        except Exception as exc:  # noqa: BLE001 — any failure of a dependency means "not ready", never a 500
            # The class name only: messages may carry host names or credentials from the URL.
            results[name] = f"down: {type(exc).__name__}"
    down = sorted(name for name, result in results.items() if result != "ok")
    status = 503 if down else 200
    return JsonResponse({"status": "down" if down else "ok", "down": down, "checks": results}, status=status)
