"""Shared fixtures: API clients authenticated by key (per scope) or by session."""

import pytest
from rest_framework.test import APIClient

from crm.access.services.api_keys import api_key_create
from tests.agents.factories import UserFactory
from tests.support.smtp_server import SmtpSink


def _key_client(scopes, team=None):
    key, raw = api_key_create(name=f"test {'+'.join(scopes)}", scopes=scopes, team=team)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.api_key = key
    return client


@pytest.fixture
def api_client():
    """An unauthenticated client."""
    return APIClient()


@pytest.fixture
def read_client(db):
    return _key_client(["read"])


@pytest.fixture
def write_client(db):
    """A key with read and write: what most integrators hold."""
    return _key_client(["read", "write"])


@pytest.fixture
def admin_client_api(db):
    return _key_client(["admin"])


@pytest.fixture
def key_client_factory(db):
    return _key_client


@pytest.fixture
def staff_user(db):
    return UserFactory(username="supervisor-staff", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(staff_user):
    client = APIClient()
    client.force_login(staff_user)
    return client


@pytest.fixture
def smtp_sink():
    """A real SMTP server (aiosmtpd) on loopback that records what it receives."""
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture(autouse=True)
def _fresh_row_caches():
    """No test sees another's rows in this process's caches (``config.rowcache``): a transactional test empties
    its tables with TRUNCATE, which sends no change signal."""
    from config.rowcache import clear_local

    clear_local()
    yield
    clear_local()


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the default language: a German request through the test client (LocaleMiddleware), a
    ``translation.activate`` in a view or a service, stays active in this thread after it returned."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture
def own_cache_generation(settings):
    """The test's process alone reads and writes its caches' generation (``config.rowcache``) and its queues' figure
    marks (``crm.live.queue_stats``, under the channel layer's prefix), for tests that count statements with warm
    caches: another test process on the same Redis changing a queue or a key between a warm-up and the counted
    request would empty this one's caches, and a queue it marked would have its figures computed by this one's
    request; the count would include their reloads or aggregates."""
    import copy
    import uuid

    own = f"{settings.SWITCHBOARD_INSTANCE}-{uuid.uuid4().hex[:8]}"
    settings.SWITCHBOARD_INSTANCE = own
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    layers["default"].setdefault("CONFIG", {})["prefix"] = own
    settings.CHANNEL_LAYERS = layers
