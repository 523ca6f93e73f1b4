"""SWITCHBOARD_INSTANCE names an installation's keys in a shared Redis: its beat lock, cache and Channels."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SHOW = (
    "import django; django.setup()\n"
    "from django.conf import settings\n"
    "from config.beat import lock_key\n"
    "print(lock_key(), settings.CACHES['default']['KEY_PREFIX'], settings.CHANNEL_LAYERS['default']['CONFIG']['prefix'])\n"
)


def _keys(instance: str | None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "SWITCHBOARD_INSTANCE"}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    if instance:
        env["SWITCHBOARD_INSTANCE"] = instance
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", SHOW], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return result.stdout.split()


def test_two_installations_on_one_redis_get_their_own_beat_lock_cache_and_channels():
    assert _keys(None) == ["switchboard:celery:beat-lock", "switchboard", "switchboard"]
    assert _keys("center-b") == ["center-b:celery:beat-lock", "center-b", "center-b"]
