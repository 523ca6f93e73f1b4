"""/readyz tells a load balancer whether this process can serve: database with migrations, Redis, broker."""

import pytest

from tests.support.redis_server import redis_server  # noqa: F401 — fixture

pytestmark = pytest.mark.django_db


def test_healthz_stays_the_cheap_liveness_probe(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_each_check_when_everything_answers(client, settings, redis_server):  # noqa: F811
    settings.REDIS_URL = redis_server.url
    settings.CELERY_BROKER_URL = redis_server.url
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "down": [],
        "checks": {"database": "ok", "redis": "ok", "broker": "ok"},
    }


def test_readyz_turns_503_naming_redis_while_it_is_stopped_and_recovers(client, settings, redis_server):  # noqa: F811
    settings.REDIS_URL = redis_server.url
    settings.CELERY_BROKER_URL = redis_server.url
    assert client.get("/readyz").status_code == 200

    redis_server.stop()
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["down"] == ["broker", "redis"]
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("down: ")

    redis_server.start()
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["down"] == []


def test_readyz_names_unapplied_migrations(client, settings, redis_server):  # noqa: F811
    settings.REDIS_URL = redis_server.url
    settings.CELERY_BROKER_URL = redis_server.url
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    recorder = MigrationRecorder(connection)
    latest = recorder.migration_qs.filter(app="contacts").order_by("-id").first()
    latest.delete()  # the test transaction rolls this back
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["down"] == ["database"]
    assert response.json()["checks"]["database"] == "down: 1 migrations not applied"
