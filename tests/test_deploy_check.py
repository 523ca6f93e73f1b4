"""Production settings pass Django's deployment checklist, and refuse to start without a secret key."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.base",
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "ALLOWED_HOSTS": "switchboard.example.com",
    "EMAIL_URL": "smtp+tls://switchboard:secret@smtp.example.com:587",
    "CSRF_TRUSTED_ORIGINS": "https://switchboard.example.com",
}


def _manage(*args: str, **overrides: str | None) -> subprocess.CompletedProcess:
    # Only this test's values: nothing inherited from the test settings (pytest-django exports them).
    env = {k: v for k, v in os.environ.items() if k not in {*PRODUCTION, "SECURE_SSL_REDIRECT"}}
    env.update(PRODUCTION)
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_settings_pass_the_deploy_checklist_without_warnings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING")

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNINGS" not in output
    assert "?:" not in output
    assert "System check identified no issues" in output


def test_without_a_secret_key_production_settings_refuse_to_start():
    result = _manage("check", SECRET_KEY=None)

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr
