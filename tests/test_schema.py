"""The API's OpenAPI document is valid, its docs render, and every operation keeps the schema's promises.

The last test is property-based (schemathesis): for each operation of ``/api/schema/`` it sends generated
requests, valid (positive) and invalid (negative), through the real WSGI application, authenticated with an
admin key, and runs all of schemathesis' checks (no 5xx, status codes, content types and bodies as documented,
invalid input rejected, auth not ignored...).
"""

import pytest
import schemathesis
import yaml
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from config.rowcache import _close_scope
from crm.access.services.api_keys import api_key_create


@pytest.mark.django_db
def test_schema_endpoint_serves_a_valid_openapi_3_document(client):
    response = client.get("/api/schema/")

    assert response.status_code == 200
    document = yaml.safe_load(response.content)
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "Switchboard API"
    validate_schema(document)  # the OpenAPI 3 JSON schema; raises on an invalid document
    assert document["components"]["securitySchemes"]["ApiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key: `Authorization: Bearer sb_...`",
    }


def test_schema_generates_without_warnings(tmp_path):
    # What CI and integrators rely on: spectacular --validate --fail-on-warn raises on any warning or error.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))

    assert yaml.safe_load((tmp_path / "schema.yml").read_text())["paths"]


@pytest.mark.django_db
def test_api_docs_page_renders(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger-ui" in response.content
    assert b"cdn." not in response.content  # Swagger UI comes from our own static files: docs work offline
    assert b"/api/schema/" in response.content


@pytest.fixture
def admin_api_key(db):
    _, raw = api_key_create(name="schemathesis", scopes=["admin"])
    return raw


@pytest.fixture
def connection_kept_across_requests():
    """What Django's own test client does: the end of a request must not close the connection that holds
    the test's transaction (the WSGI app is called here through werkzeug, not through that client)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
    # werkzeug's client never closes the last response, so its request_finished never came: the per-request scope of
    # the row caches (config.rowcache) it opened would stay on this thread and confuse the next test's cached reads
    _close_scope()


def _api_operations() -> list:
    """Every operation of /api/schema/, loaded through the WSGI application at collection time."""
    from config.wsgi import application

    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    operations = []
    for result in schema.get_all_operations():
        if isinstance(result, Ok):
            operations.append(pytest.param(result.ok(), id=result.ok().label))
        else:  # an operation schemathesis cannot read is a failing test, not a silent gap
            error = result.err()
            operations.append(pytest.param(error, id=getattr(error, "label", None) or "invalid operation"))
    return operations


# One pytest test per operation and mode, with readable ids ("GET /api/v1/customers/-negative").
# schemathesis' own @schema.parametrize() gives every item the same node id under pytest 9, which breaks
# -k, --lf and pytest-xdist; generating through the public as_strategy() API avoids that.
# Each operation's requests share the test's transaction (rolled back afterwards), as pytest-django's ``db``
# does: no flush and no reconnect per request, which made the transactional variant five times slower.
# Side effects deferred with transaction.on_commit do not run here; the apps' own tests cover them.
@pytest.mark.slow
@pytest.mark.django_db
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
@pytest.mark.parametrize("operation", _api_operations())
def test_api_operation_keeps_the_schemas_promises(operation, mode, admin_api_key, connection_kept_across_requests):
    if isinstance(operation, Exception):
        raise operation
    auth = {"Authorization": f"Bearer {admin_api_key}"}

    @settings(
        max_examples=15,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as found
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        # All of schemathesis' checks: no 5xx, documented status codes, content types, headers and bodies...
        case.call_and_validate(headers=auth)

    check()
