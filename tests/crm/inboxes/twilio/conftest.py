"""The Twilio stand-in (``tests.support.fake_twilio``) and the settings every Twilio test runs under."""

import pytest

from tests.support.fake_twilio import FakeTwilio

PUBLIC = "https://switchboard.example.com"


@pytest.fixture
def twilio(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True  # the stand-in listens on 127.0.0.1
    settings.TWILIO_MEDIA_HOSTS = ["127.0.0.1"]
    settings.SWITCHBOARD_PUBLIC_URL = PUBLIC
    server = FakeTwilio().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
