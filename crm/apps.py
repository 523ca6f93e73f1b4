from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("Contact center")

    def ready(self) -> None:
        # The in-transaction hooks (crm.interactions.hooks, crm.routing.hooks), filled in this fixed order: the
        # order is the order their side effects happen in (a resolution's webhook delivery before its survey).
        # Inboxes before webhooks: a reply's delivery is written before its message.created event (which then says
        # "pending"); inboxes register on message_saved only.
        from .inboxes import hooks as inbox_hooks
        from .routing import hooks as routing_hooks
        from .sla import hooks as sla_hooks
        from .surveys import hooks as survey_hooks
        from .webhooks import hooks as webhook_hooks

        for concern in (routing_hooks, sla_hooks, inbox_hooks, webhook_hooks, survey_hooks):
            concern.register()

        # after-commit receivers: the live events' publishers and the router's triggers
        # every task registered in every process, so services can queue them by name (config.tasks.task_named)
        from . import tasks  # noqa: F401
        from .live import receivers as live_receivers  # noqa: F401
        from .routing import receivers as routing_receivers  # noqa: F401
        from .widget import receivers as widget_receivers  # noqa: F401
