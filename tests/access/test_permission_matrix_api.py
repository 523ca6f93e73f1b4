"""The API permission matrix: every role × every (method, path) of the OpenAPI schema × team A's and team B's
objects, against the table in ``api_expectations`` (docs/security.md says the same in words).

The operations come from drf-spectacular's generator, so an endpoint added without an entry in the table fails
``test_every_operation_of_the_schema_has_an_expectation`` by name. One test per role runs every case, each in a
savepoint rolled back afterwards (so a case never sees another's change), and reports all mismatches at once.
"""

import json

import pytest
from django.core.cache import cache
from django.db import transaction
from drf_spectacular.generators import SchemaGenerator

from .api_expectations import EXPECTED
from .world import ROLES, TEAMS, build_world

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")
SURVEY_CLIENT_ADDRESS = "203.0.113.201"  # the survey answer throttle counts per address: forgotten per case


def schema_operations() -> list[str]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method in operations
        if method in METHODS
    )


def test_every_operation_of_the_schema_has_an_expectation():
    operations = schema_operations()
    missing = [op for op in operations if op not in EXPECTED]
    stale = [op for op in EXPECTED if op not in operations]
    assert not missing, (
        "No permission expectation for these API operations; add each to EXPECTED in "
        f"tests/access/api_expectations.py (and its row to docs/security.md): {missing}"
    )
    assert not stale, f"EXPECTED lists operations the schema no longer has: {stale}"
    for op, spec in EXPECTED.items():
        assert set(spec.allowed) == set(ROLES), f"{op}: give an expectation for every role"


@pytest.fixture
def world(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True  # the webhook cases subscribe 127.0.0.1 (no DNS, no traffic)
    return build_world()


def _call(client, operation: str, ctx: dict, data):
    method, template = operation.split(" ", 1)
    url = template.format(**ctx)
    if method == "GET":
        return client.get(url, data or {})
    extra = {"REMOTE_ADDR": SURVEY_CLIENT_ADDRESS} if "/surveys/" in template else {}
    return getattr(client, method.lower())(url, data if data is not None else {}, format="json", **extra)


def _verdict(operation: str, role: str, team: str, response, ctx: dict) -> str | None:
    """None when the answer is the expected one, else what is wrong with it."""
    spec = EXPECTED[operation]
    status = response.status_code
    allowed = team in spec.allowed[role]
    body = response.json() if response.content and response["Content-Type"].startswith("application/json") else None
    if allowed:
        if not 200 <= status < 300:
            return f"expected 2xx, got {status} {json.dumps(body)[:300]}"
        if spec.seen is not None and not spec.seen(body, ctx):
            return f"got {status} but team {team}'s object is not in it"
        return None
    if status in (403, 404):
        return None
    if status == 400 and (role, team) in spec.refused_400:
        return None
    if 200 <= status < 300 and spec.seen is not None and not spec.seen(body, ctx):
        return None  # a read that leaves the object out
    return f"expected a refusal (403/404), got {status} {json.dumps(body)[:300]}"


@pytest.mark.parametrize("role", ROLES)
def test_role_gets_exactly_what_the_matrix_says(world, role):
    client = world.clients[role]
    problems = []
    for operation in sorted(EXPECTED):
        spec = EXPECTED[operation]
        for team in TEAMS:
            cache.delete(f"throttle_survey_answers_{SURVEY_CLIENT_ADDRESS}")
            with transaction.atomic():
                ctx = spec.make(world, team)
                response = _call(client, operation, ctx, spec.data(world, team, ctx))
                problem = _verdict(operation, role, team, response, ctx)
                transaction.set_rollback(True)
            if problem:
                problems.append(f"{operation} [team {team}]: {problem}")
    assert not problems, f"{role}: {len(problems)} mismatch(es):\n" + "\n".join(problems)
