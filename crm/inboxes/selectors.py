"""Reading inboxes: who sees which, their settings as they may be shown, their inbound URL; and for the outbound
side, to whom a reply goes, what it answers, and the console's view of it."""

from __future__ import annotations

import copy
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connections, router
from django.db.models import QuerySet

from agents.access import Viewer
from config.rowcache import RowCache
from contacts.models import ContactIdentity
from contacts.services import identity_channel_for
from crm.choices import MessageDirection
from crm.interactions.models import Interaction, Message
from crm.routing.models import Queue
from crm.routing.selectors import queue_by_id, queue_visibility_q

from .adapters import adapter_for
from .models import Inbox

# Where an adapter's provider POSTs what arrives, unless the adapter class names its own ``inbound_path``
# (a format string with ``{adapter}``, ``{token}`` and ``{id}``). E-mail: ``/inbound/email/<token>/``.
DEFAULT_INBOUND_PATH = "/inbound/{adapter}/{token}/"
REDACTED = "***"

# Active e-mail inboxes by token, per process (``config.rowcache``): every inbound mail reads one. A save or delete
# of any inbox (deactivated, new token, new settings) empties it in every process before their next request, as
# when every request read it on the primary; the writes that send no signal say so (``credentials``). Unknown
# tokens are not kept (a caller could send endless ones). The queue comes from routing's own cache.
_email_inboxes = RowCache("e-mail inboxes by token", watch={"crm.Inbox": None})


def email_inbox_for_token(
    token: str, *, with_queue: bool = True, stale_for: float = 0, read_only: bool = False
) -> Inbox | None:
    """The active e-mail inbox whose secret token this is, with its queue, or None. Each caller gets its own copy.
    ``with_queue=False``: without it, for a caller that reads none (``inbox_with_queue`` adds it later).
    ``stale_for``: an entry up to that many seconds behind a change made in another process will do
    (``RowCache.get``), for a caller that checks in its own write that the inbox still takes mail.
    ``read_only`` (with ``with_queue=False``): the process's cached instance itself, no copy, for a caller that
    only reads it and sets nothing on it (the queued acceptance: its id, token and settings)."""
    inbox = _email_inboxes.get(
        token,
        lambda: Inbox.objects.using(DEFAULT_DB_ALIAS).filter(token=token, is_active=True, adapter="email").first(),
        keep=lambda found: found is not None,
        stale_for=stale_for,
    )
    if inbox is None or (read_only and not with_queue):
        return inbox
    own = copy.copy(inbox)
    return inbox_with_queue(own) if with_queue else own


def inbox_with_queue(inbox: Inbox) -> Inbox:
    """``inbox`` with its queue from routing's per-process cache (``inbox.queue`` would read it)."""
    queue = queue_by_id(queue_id=inbox.queue_id)
    if queue is not None:  # a queue is PROTECTed from deletion while an inbox names it
        inbox.queue = queue
    return inbox


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


def interaction_recipient(*, interaction: Interaction) -> str | None:
    """The customer's address on the interaction's channel: their primary identity of that kind, else their oldest
    one, else (e-mail) the customer's ``email``; None when they have none."""
    return interaction_recipient_state(interaction=interaction)[0]


def interaction_recipient_state(*, interaction: Interaction) -> tuple[str | None, str]:
    """``interaction_recipient`` and why nothing may be sent to it ("" when it may): the address opted out (a text
    message's STOP) or was found undeliverable (a permanent bounce)."""
    try:
        kind = identity_channel_for(interaction.channel)
    except ValidationError:  # a channel without identities: nothing to send to
        return None, ""
    # one statement of fixed text: every reply sent reads it (the ORM built it afresh: a tenth of a chat reply's CPU)
    with connections[router.db_for_read(ContactIdentity)].cursor() as cursor:
        cursor.execute(_RECIPIENT_SQL, [interaction.customer_id, kind])
        found = cursor.fetchone()
    if found:
        address, refused_at, reason = found
        return address, (reason or "undeliverable") if refused_at is not None else ""
    if kind == "email":
        return interaction.customer.email or None, ""
    return None, ""


_RECIPIENT_SQL = (
    "SELECT address, undeliverable_at, undeliverable_reason"  # noqa: S608  (the table is the model's own)
    f" FROM {ContactIdentity._meta.db_table} WHERE customer_id = %s AND channel = %s"
    " ORDER BY is_primary DESC, created_at, id LIMIT 1"
)


def interaction_thread_ids(*, interaction: Interaction, before: Message | None = None) -> tuple[str, ...]:
    """The provider ids (e-mail Message-IDs) of the interaction's messages, oldest first, with the customer's latest
    message last: the one a reply answers (``In-Reply-To``). ``before``: only the messages written before it."""
    messages = Message.objects.filter(interaction_id=interaction.pk).exclude(external_id="")
    messages = messages.exclude(direction=MessageDirection.INTERNAL)
    if before is not None:
        messages = messages.filter(pk__lt=before.pk)
    rows = list(messages.order_by("created_at", "id").values_list("external_id", "direction"))
    ids = list(dict.fromkeys(external_id for external_id, _ in rows))
    inbound = [external_id for external_id, direction in rows if direction == MessageDirection.INBOUND]
    if inbound:
        ids.remove(inbound[-1])
        ids.append(inbound[-1])
    return tuple(ids)


def inbox_sender_address(*, inbox: Inbox) -> str:
    """The address replies go out from, for display (an e-mail inbox's support address; else its name)."""
    settings = inbox.settings if isinstance(inbox.settings, dict) else {}
    return str(settings.get("address") or inbox.display_name or inbox.name)


def conversation_with_deliveries(*, messages: QuerySet[Message]) -> QuerySet[Message]:
    """``messages`` with each one's delivery joined in (``message.delivery``), for the console: no query per row."""
    return messages.select_related("delivery")


def interaction_reply_route(*, interaction: Interaction) -> dict[str, str] | None:
    """Where the console's reply box says a reply goes: ``{"to", "sender", "inbox"}``; None without an inbox (the
    reply is recorded, not sent). One query for the customer's address (the inbox comes with the interaction)."""
    inbox = interaction.inbox
    if inbox is None:
        return None
    return {
        "to": interaction_recipient(interaction=interaction) or "",
        "sender": inbox_sender_address(inbox=inbox),
        "inbox": inbox.name,
    }
