"""Reading inboxes: who sees which, their settings as they may be shown, and their inbound URL."""

from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from agents.access import Viewer
from crm.routing.models import Queue
from crm.routing.selectors import queue_visibility_q

from .adapters import adapter_for
from .models import Inbox

# Where an adapter's provider POSTs what arrives, unless the adapter class names its own ``inbound_path``
# (a format string with ``{adapter}``, ``{token}`` and ``{id}``). E-mail: ``/inbound/email/<token>/``.
DEFAULT_INBOUND_PATH = "/inbound/{adapter}/{token}/"
REDACTED = "***"


def inbox_list(*, viewer: Viewer) -> QuerySet[Inbox]:
    """The inboxes ``viewer`` may see: every one when unrestricted, else those whose queue they see (their teams'
    queues and the shared ones), like queues themselves. Queue and team loaded (no N+1)."""
    visible = Inbox.objects.all()
    if not viewer.unrestricted:
        visible = visible.filter(queue__in=Queue.objects.filter(queue_visibility_q(viewer)))
    return visible.select_related("queue", "queue__team")


def inbox_redacted_settings(inbox: Inbox) -> dict[str, Any]:
    """The settings with every secret masked by the inbox's adapter: what a page, an API answer or a log may show.
    Without a registered adapter (a plug-in removed) nothing but the setting names is shown."""
    try:
        adapter_class = adapter_for(inbox.adapter)
    except LookupError:
        return dict.fromkeys(inbox.settings, REDACTED)
    return adapter_class.redact_settings(inbox.settings)


def inbox_inbound_path(inbox: Inbox) -> str:
    try:
        template = getattr(adapter_for(inbox.adapter), "inbound_path", None) or DEFAULT_INBOUND_PATH
    except LookupError:
        template = DEFAULT_INBOUND_PATH
    return template.format(adapter=inbox.adapter, token=inbox.token, id=inbox.pk)


def inbox_inbound_url(inbox: Inbox) -> str:
    """The absolute URL (on ``SWITCHBOARD_PUBLIC_URL``) providers POST this inbox's inbound messages to; it holds
    the inbox's secret token, so it is shown once, to whoever created the inbox (or issued a new token).

    Built on the public URL, not on the request's host: behind a proxy that is the address the provider calls,
    and the one its signatures (Twilio's) are computed over."""
    return settings.SWITCHBOARD_PUBLIC_URL.rstrip("/") + inbox_inbound_path(inbox)
