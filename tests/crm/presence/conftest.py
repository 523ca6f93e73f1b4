"""Presence tests: the real Redis layer under a prefix per xdist worker (as the live socket tests)."""

import pytest

from tests.crm.live.conftest import live_layer  # noqa: F401  (autouse: the prefix of this worker)


@pytest.fixture(autouse=True)
def presence_settings(settings, live_layer):  # noqa: F811
    settings.SWITCHBOARD_PRESENCE_GRACE_SECONDS = 60.0
    settings.SWITCHBOARD_PRESENCE_TIMEOUT_SECONDS = 75.0
    return settings
