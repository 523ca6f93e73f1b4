"""Switchboard's own system checks, run by ``manage.py check`` (``--deploy`` for the deployment ones).

``switchboard.E001`` (deploy): with ``DEBUG`` off, every configured mailer must deliver mail. The console,
locmem, dummy and file backends only print, keep, drop or write it to disk: password resets, survey e-mails and
the notices to administrators would silently go nowhere. Django 6.1's own ``mail.E001`` says so too for the
``default`` mailer naming one of those backends exactly (so that case is reported twice); this one also sees the
other mailers, the older ``EMAIL_BACKEND`` setting and backends derived from those four. The test settings use
locmem with ``DEBUG`` off (and a real worker runs with the file backend in the tests), which is why it is a
deployment check and not one that runs on every start.
"""

from django.conf import settings
from django.core import checks
from django.core.mail.backends.console import EmailBackend as ConsoleBackend
from django.core.mail.backends.dummy import EmailBackend as DummyBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.utils.module_loading import import_string

# The file backend is a console backend that writes to files: covered by ConsoleBackend.
NON_DELIVERING = (ConsoleBackend, LocmemBackend, DummyBackend)
SMTP = "django.core.mail.backends.smtp.EmailBackend"


def _mailer_backends() -> dict[str, str]:
    """Backend path per mailer alias: Django 6.1's ``MAILERS``, or the older ``EMAIL_BACKEND``."""
    mailers = getattr(settings, "MAILERS", None)
    if mailers is None:
        return {"default": settings.EMAIL_BACKEND}
    return {alias: config.get("BACKEND", SMTP) for alias, config in mailers.items()}


def _delivers(path: str) -> bool:
    try:
        backend = import_string(path)
    except ImportError:
        return True  # not this check's to report: sending fails loudly, and Django says why
    return not (isinstance(backend, type) and issubclass(backend, NON_DELIVERING))


@checks.register(checks.Tags.security, deploy=True)
def check_email_backends_deliver(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    if settings.DEBUG:
        return []
    return [
        checks.Error(
            f"The e-mail backend of mailer '{alias}' ({path}) does not deliver mail, and DEBUG is off.",
            hint="Set EMAIL_URL to your SMTP server, e.g. smtp+tls://user:password@smtp.example.com:587.",
            id="switchboard.E001",
        )
        for alias, path in _mailer_backends().items()
        if not _delivers(path)
    ]
