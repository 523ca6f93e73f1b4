from django.apps import AppConfig


class SwitchboardConfig(AppConfig):
    """Project-wide plumbing that Django must load as an app: the system checks of ``config.checks`` and the admin's
    navigation by job (``config.admin_navigation``)."""

    name = "config"
    label = "switchboard"
    verbose_name = "Switchboard"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the checks)
        from .admin_navigation import install

        install()
