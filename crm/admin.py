"""The crm admin, for Django's autodiscovery: each concern registers its model admins in its own ``admin`` module.

Who sees what there is ``agents.admin_scope``; what the model admins share, ``config.admin_tools``.
"""

from crm.access import admin as access_admin  # noqa: F401
from crm.deadletters import admin as deadletters_admin  # noqa: F401
from crm.inboxes import admin as inboxes_admin  # noqa: F401
from crm.inboxes import admin_deliveries as deliveries_admin  # noqa: F401
from crm.inboxes import admin_receipts as inbound_receipts_admin  # noqa: F401
from crm.interactions import admin as interactions_admin  # noqa: F401
from crm.privacy import admin as privacy_admin  # noqa: F401
from crm.quality import admin as quality_admin  # noqa: F401
from crm.routing import admin as routing_admin  # noqa: F401
from crm.sla import admin as sla_admin  # noqa: F401
from crm.surveys import admin as surveys_admin  # noqa: F401
from crm.webhooks import admin as webhooks_admin  # noqa: F401
