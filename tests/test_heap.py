"""``config.heap``: a web, websocket or worker process keeps the loaded project out of the garbage collector's full
passes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import gc, json, importlib, sys
importlib.import_module(sys.argv[1])
if sys.argv[1] == "config.celery":  # a worker: Celery's Django fix-up sets Django up, the pool signals its process
    import django
    from celery.signals import worker_process_init
    django.setup()
    worker_process_init.send(sender=None)
frozen = gc.get_freeze_count()
tracked = len(gc.get_objects())  # what a full collection still walks
print(json.dumps({"frozen": frozen, "tracked": tracked}))
"""


@pytest.mark.parametrize("entry_point", ["config.wsgi", "config.asgi", "config.celery"])
def test_the_served_application_freezes_what_loading_built(entry_point):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    result = subprocess.run(  # noqa: S603  (our own interpreter, fixed arguments)
        [sys.executable, "-c", PROBE, entry_point], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.splitlines()[-1])

    # Django, DRF, Channels and our apps: tens of thousands of objects, frozen once the application is built …
    assert probe["frozen"] > 50_000
    # … so a full collection walks only what is made afterwards, a small fraction of them
    assert probe["tracked"] < probe["frozen"] / 10
