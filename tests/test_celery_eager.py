"""``config.celery``: the app's ``task_always_eager`` is copied into its own changes once its settings are read, so
the requests of coalesced runs (``config.coalesced``, on every accepted mail) find it without falling through to
Django's settings; the value is Django's ``CELERY_TASK_ALWAYS_EAGER``, and setting it later still works. In a new
process: this one's app has long been read, and tests change the value."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, sys
import django
from django.conf import settings
django.setup()
settings.CELERY_TASK_ALWAYS_EAGER = sys.argv[1] == "eager"  # before the app reads its settings
from config.celery import app
first = app.conf.task_always_eager
pinned = "task_always_eager" in app.conf.changes
app.conf.task_always_eager = not first
print(json.dumps({"first": first, "pinned": pinned, "after": app.conf.task_always_eager}))
"""


@pytest.mark.parametrize("mode", ["eager", "queued"])
def test_the_eager_setting_is_read_once_from_django_and_can_still_change(mode):
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "config.settings.test", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(  # noqa: S603 (this interpreter, a fixed script)
        [sys.executable, "-c", PROBE, mode], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["first"] is (mode == "eager")  # Django's setting, as before
    assert seen["pinned"], "task_always_eager is looked up through Django's settings on every read"
    assert seen["after"] is (mode != "eager")  # a later change (as the tests make) is what the app reads
