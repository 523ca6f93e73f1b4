"""Production settings pass Django's deployment checklist, and refuse to start without a secret key."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.mail.backends.console import EmailBackend as ConsoleBackend

from config.checks import check_email_backends_deliver

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


@pytest.mark.parametrize("email_url", ["consolemail://", "filemail://"])
def test_a_mail_backend_that_delivers_nothing_fails_the_deploy_checklist(email_url):
    result = _manage("check", "--deploy", EMAIL_URL=email_url)

    assert result.returncode != 0
    assert "(switchboard.E001) The e-mail backend of mailer 'default'" in result.stderr
    assert "Set EMAIL_URL to your SMTP server" in result.stderr


class QuietBackend(ConsoleBackend):
    """A project's own backend built on the console one: it delivers nothing either."""


SMTP = {"BACKEND": "django.core.mail.backends.smtp.EmailBackend"}


@pytest.mark.parametrize(
    ("mailers", "refused"),
    [
        ({"default": SMTP, "bulk": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}, ["bulk"]),
        ({"default": SMTP, "alerts": {"BACKEND": "django.core.mail.backends.dummy.EmailBackend"}}, ["alerts"]),
        ({"default": {"BACKEND": "tests.test_deploy_check.QuietBackend"}}, ["default"]),
        ({"default": SMTP, "other": {}}, []),  # no BACKEND: SMTP
    ],
)
def test_every_mailer_is_checked_not_only_the_default_one(settings, mailers, refused):
    settings.DEBUG = False
    settings.MAILERS = mailers

    errors = check_email_backends_deliver()

    assert [error.id for error in errors] == ["switchboard.E001"] * len(refused)
    assert [error.msg.split("'")[1] for error in errors] == refused


@pytest.mark.filterwarnings("ignore::django.utils.deprecation.RemovedInDjango2028Warning")
def test_the_older_email_backend_setting_is_checked_too(settings):
    settings.DEBUG = False
    del settings.MAILERS
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

    assert [error.id for error in check_email_backends_deliver()] == ["switchboard.E001"]


def test_with_debug_on_any_backend_will_do(settings):
    settings.DEBUG = True
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}

    assert check_email_backends_deliver() == []
