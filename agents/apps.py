from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def grant_administrators_every_permission(sender, using="default", **kwargs) -> None:
    """After each migrate, the Administrator group holds every model permission, new models' included."""
    from django.contrib.auth.models import Group, Permission

    from config.roles import ADMINISTRATOR_GROUP

    group = Group.objects.using(using).filter(name=ADMINISTRATOR_GROUP).first()
    if group is not None:
        group.permissions.add(*Permission.objects.using(using).exclude(group=group))


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = _("Agents")

    def ready(self) -> None:
        # Sent once per app; the last one (after every app's permissions exist) leaves the group complete.
        post_migrate.connect(grant_administrators_every_permission, dispatch_uid="agents.administrator_group")
        from config.audit import audit_write, audit_write_many

        from .audit import audit_entries_write, audit_entry_write

        audit_write.register(audit_entry_write)
        audit_write_many.register(audit_entries_write)
