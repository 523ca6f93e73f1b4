from django.apps import AppConfig


class SwitchboardConfig(AppConfig):
    """Project-wide plumbing that Django must load as an app: the system checks of ``config.checks`` and the admin's
    navigation by job (``config.admin_navigation``), the audit log's recorder (``config.audit``) and the fast reading
    of timestamps (``config.timestamps``)."""

    name = "config"
    label = "switchboard"
    verbose_name = "Switchboard"

    def ready(self) -> None:
        from django.db.models import signals

        from . import audit, checks, timestamps  # noqa: F401  (registers the checks)
        from .admin_navigation import install

        install()
        timestamps.install()  # before any connection is made: they are built from the template it changes
        # The audit log's recorder sees every save, delete and many-to-many change (it records only inside a
        # request or a command: config.audit).
        signals.pre_save.connect(audit.on_pre_save, dispatch_uid="switchboard.audit.pre_save")
        signals.post_save.connect(audit.on_post_save, dispatch_uid="switchboard.audit.post_save")
        signals.post_delete.connect(audit.on_post_delete, dispatch_uid="switchboard.audit.post_delete")
        signals.m2m_changed.connect(audit.on_m2m_changed, dispatch_uid="switchboard.audit.m2m_changed")
