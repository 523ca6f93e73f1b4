"""Creating, changing and deleting inboxes (the connected addresses, numbers, sites and lines).

Shape checks (types, lengths) belong to the callers' serializers and forms; what depends on the adapter registry
and on other rows is checked here, so the API and the admin hold the same rules:

- the ``adapter`` defaults from the channel (an ``email`` inbox gets the ``email`` adapter) and must be registered
  (``crm.inboxes.adapters``); one made for a single channel serves only that channel;
- ``settings`` are cleaned by the adapter's ``validate_settings``; what it refuses comes back as field errors
  named ``settings.<key>`` (a 400 in the API);
- the ``queue`` must be active and serve the channel (the core's rule for new work, ``pick_queue``);
- a change of ``settings`` merges into the stored ones: a value sent back exactly as the adapter redacts it (the
  IMAP URL with ``***`` for its password) keeps the stored secret, ``null`` removes a setting;
- the channel and adapter are fixed once created (their settings and history belong to them): make another inbox;
- an inbox that carried anything (interactions, messages, deliveries, receipts) is not deleted but deactivated,
  so its history keeps its inbox: ``DomainError`` (a 409) says so.

Settings hold secrets (passwords inside mail server URLs, tokens): nothing here logs them or puts them in an
exception. The inbox's ``token`` (the secret part of its inbound URL, ``crm.inboxes.selectors.inbox_inbound_url``)
is shown once after creation and after ``inbox_rotate_token``.
"""

import logging
from collections.abc import Mapping
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from config.choices import Channel
from config.errors import DomainError
from crm.interactions.models import Interaction, Message
from crm.interactions.services.intake import pick_queue
from crm.routing.models import Queue

from ..adapters import InvalidSettings, adapter_for, registered_channels
from ..models import Inbox, InboxState, new_inbox_token
from .delivery import delivery_resume_inbox

logger = logging.getLogger(__name__)

INBOX_FIELDS = frozenset({"name", "channel", "adapter", "queue", "display_name", "settings", "is_active"})
FIXED_FIELDS = ("channel", "adapter")


class _FieldErrors(dict):
    """Every field's message at once, so one answer lists every problem."""

    @contextmanager
    def collect(self):
        try:
            yield
        except ValidationError as exc:
            self.update(exc.message_dict)

    def raise_any(self) -> None:
        if self:
            raise ValidationError(dict(self))


# --- checks --------------------------------------------------------------------------------------------------------


def inbox_default_adapter(*, channel: str) -> str | None:
    """The adapter an inbox of ``channel`` gets when none is named: the one registered under the channel's name."""
    return channel if channel in registered_channels() else None


def inbox_check_adapter(*, channel: str, adapter: str | None) -> tuple[str, type]:
    """The adapter key and class for an inbox of ``channel``, or ``ValidationError`` naming the field at fault."""
    if channel not in Channel.values:
        raise ValidationError(
            {
                "channel": gettext("Unknown channel '%(channel)s'; choose one of: %(join)s.")
                % {"channel": channel, "join": ", ".join(Channel.values)}
            }
        )
    key = adapter or inbox_default_adapter(channel=channel)
    known = ", ".join(registered_channels())
    if not key:
        raise ValidationError(
            {
                "adapter": gettext("No adapter serves the %(channel)s channel by default; name one of: %(known)s.")
                % {"channel": channel, "known": known}
            }
        )
    try:
        adapter_class = adapter_for(key)
    except LookupError:
        raise ValidationError(
            {"adapter": gettext("Unknown adapter '%(key)s'; choose one of: %(known)s.") % {"key": key, "known": known}}
        ) from None
    # An adapter made for one channel (e-mail) serves only it; a generic one (the bridge) serves any.
    served = getattr(adapter_class, "channel", None)
    if served in Channel.values and served != channel:
        raise ValidationError(
            {
                "adapter": gettext("The %(key)s adapter serves the %(served)s channel, not %(channel)s.")
                % {"key": key, "served": served, "channel": channel}
            }
        )
    return key, adapter_class


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


def inbox_clean_settings(*, adapter_class: type, settings: Any) -> dict[str, Any]:
    """The adapter's cleaned settings, or ``ValidationError`` with one ``settings.<key>`` message per bad setting.

    The adapters' messages never quote a secret; the ``InvalidSettings`` is not chained, so no traceback carries it.
    """
    if not isinstance(settings, Mapping):
        raise ValidationError({"settings": gettext("The settings are an object of the adapter's settings.")})
    bad = sorted(str(key) for key, value in settings.items() if _has_nul(key) or _has_nul(value))
    if bad:
        raise ValidationError({f"settings.{key}": "Must not contain the NUL character." for key in bad})
    try:
        return adapter_class.validate_settings(settings)
    except InvalidSettings as exc:
        errors = {f"settings.{key}": message for key, message in exc.errors.items()}
    raise ValidationError(errors)


def inbox_merge_settings(*, adapter_class: type, stored: Mapping[str, Any], sent: Mapping[str, Any]) -> dict:
    """``stored`` updated with ``sent``: a value sent back as the adapter shows it redacted keeps the stored secret
    (a form or a client echoing what it was shown changes nothing), ``None`` removes the setting."""
    redacted = adapter_class.redact_settings(stored)
    merged = dict(stored)
    for key, value in sent.items():
        if value is None:
            merged.pop(key, None)
        elif key in stored and redacted.get(key) != stored[key] and value == redacted.get(key):
            continue
        else:
            merged[key] = value
    return merged


def _check_queue(*, queue: Queue, channel: str) -> None:
    pick_queue(channel=channel, queue=queue)  # the core's rule for where work on a channel may go


def _check_name(name: str) -> str:
    name = " ".join(str(name).split())
    if not name:
        raise ValidationError({"name": gettext("An inbox needs a name.")})
    return name


def _display_name(value: str) -> str:
    return " ".join(str(value or "").split())


def _sync_display_name(settings: dict, display_name: str) -> dict:
    # The inbox's display name is the sender name; an adapter that sends one (e-mail's From) reads it from its
    # settings, so the two are kept equal here rather than in every sender.
    if "display_name" in settings:
        settings["display_name"] = display_name
    return settings


# --- create, change, delete ----------------------------------------------------------------------------------------


def _prepare_new(
    *, name: str, channel: str, queue: Queue, settings: Any, adapter: str | None = None, display_name: str = ""
) -> dict[str, Any]:
    """The checked field values of a new inbox, or ``ValidationError`` naming every problem at once."""
    errors = _FieldErrors()
    adapter_class, cleaned = None, {}
    with errors.collect():
        name = _check_name(name)
    with errors.collect():
        adapter, adapter_class = inbox_check_adapter(channel=channel, adapter=adapter)
    with errors.collect():
        _check_queue(queue=queue, channel=channel)
    if adapter_class is not None:
        with errors.collect():
            cleaned = inbox_clean_settings(adapter_class=adapter_class, settings=settings)
    errors.raise_any()
    display_name = _display_name(display_name) or _display_name(cleaned.get("display_name"))
    return {
        "name": name,
        "channel": channel,
        "adapter": adapter,
        "queue": queue,
        "display_name": display_name,
        "settings": _sync_display_name(cleaned, display_name),
    }


def _prepare_change(*, inbox: Inbox, data: Mapping[str, Any]) -> dict[str, Any]:
    """The checked new values of the fields ``data`` changes, or ``ValidationError`` naming every problem."""
    unknown = set(data) - INBOX_FIELDS
    if unknown:
        raise ValueError(f"inbox_update got unknown fields: {', '.join(sorted(unknown))}")
    errors = _FieldErrors()
    for field in FIXED_FIELDS:
        if field in data and data[field] != getattr(inbox, field):
            errors[field] = [f"An inbox's {field} cannot change; create another inbox for the new one."]
    values: dict[str, Any] = {}
    if "name" in data:
        with errors.collect():
            values["name"] = _check_name(data["name"])
    if "queue" in data and data["queue"].pk != inbox.queue_id:
        with errors.collect():
            _check_queue(queue=data["queue"], channel=inbox.channel)
            values["queue"] = data["queue"]
    if "is_active" in data:
        values["is_active"] = bool(data["is_active"])
    if "settings" in data or "display_name" in data:
        with errors.collect():
            values.update(_new_settings(inbox=inbox, data=data))
    errors.raise_any()
    return {field: value for field, value in values.items() if getattr(inbox, field) != value}


def _new_settings(*, inbox: Inbox, data: Mapping[str, Any]) -> dict[str, Any]:
    _, adapter_class = inbox_check_adapter(channel=inbox.channel, adapter=inbox.adapter)
    sent = data.get("settings", {})
    if not isinstance(sent, Mapping):
        raise ValidationError({"settings": gettext("The settings are an object of the adapter's settings.")})
    merged = inbox_merge_settings(adapter_class=adapter_class, stored=inbox.settings, sent=sent)
    cleaned = inbox_clean_settings(adapter_class=adapter_class, settings=merged)
    if "display_name" in data:
        display_name = _display_name(data["display_name"])
    elif "display_name" in sent:
        display_name = _display_name(cleaned.get("display_name"))
    else:
        display_name = inbox.display_name
    return {"settings": _sync_display_name(cleaned, display_name), "display_name": display_name}


def _differ(old: Mapping[str, Any], new: Mapping[str, Any]) -> set[str]:
    return {key for key in {*old, *new} if old.get(key) != new.get(key)}


def inbox_check(*, inbox: Inbox | None = None, data: Mapping[str, Any]) -> None:
    """Raise ``ValidationError`` (every problem, by field) unless ``inbox_create(**data)`` — or, given ``inbox``,
    ``inbox_update(inbox=inbox, data=data)`` — would pass its checks: for forms, which show them beside fields."""
    if inbox is None:
        _prepare_new(**{key: value for key, value in data.items() if key != "is_active"})
    else:
        _prepare_change(inbox=inbox, data=data)


# --- create, change, delete ----------------------------------------------------------------------------------------


def inbox_create(
    *,
    name: str,
    channel: str,
    queue: Queue,
    settings: Mapping[str, Any],
    adapter: str | None = None,
    display_name: str = "",
    is_active: bool = True,
) -> Inbox:
    """Create an inbox. Its ``token`` (and so its inbound URL) is new; show it to the creator once."""
    values = _prepare_new(
        name=name, channel=channel, queue=queue, settings=settings, adapter=adapter, display_name=display_name
    )
    inbox = Inbox(**values, is_active=is_active)
    inbox.full_clean(exclude=["settings", "token"])
    inbox.save(force_insert=True)
    logger.info("inbox %s created: %s channel, %s adapter, queue %s", inbox.pk, channel, inbox.adapter, queue.pk)
    return inbox


def inbox_update(*, inbox: Inbox, data: Mapping[str, Any]) -> Inbox:
    """Change the given fields (``INBOX_FIELDS``). ``settings`` merge into the stored ones (see the module's
    docstring); new settings put an inbox that waited for re-authorisation back to active (the next poll tries
    them, and the replies that waited for them leave)."""
    with transaction.atomic():
        inbox = Inbox.objects.select_for_update().get(pk=inbox.pk)
        changed = _prepare_change(inbox=inbox, data=data)
        new_connection = "settings" in changed and _differ(inbox.settings, changed["settings"]) - {"display_name"}
        resumed = bool(new_connection and inbox.state != InboxState.ACTIVE)
        if resumed:
            changed |= {"state": InboxState.ACTIVE, "state_detail": ""}
        for field, value in changed.items():
            setattr(inbox, field, value)
        if changed:
            inbox.full_clean(exclude=["settings", "token"])
            inbox.save(update_fields=[*changed, "updated_at"])
            logger.info("inbox %s changed: %s", inbox.pk, ", ".join(changed))  # field names only, never values
        if resumed:
            delivery_resume_inbox(inbox=inbox)
    return inbox


def inbox_delete_blockers(*, inbox: Inbox) -> list[str]:
    """Why the inbox cannot be deleted (empty: it can): it carried something, which must keep its inbox."""
    used = [
        label
        for label, queryset in (
            ("interactions", Interaction.objects.filter(inbox=inbox)),
            ("messages", Message.objects.filter(inbox=inbox)),
            ("deliveries", inbox.deliveries.all()),
            ("received mail", inbox.receipts.all()),
        )
        if queryset.exists()
    ]
    if not used:
        return []
    return [
        f"Inbox '{inbox.name}' has carried {', '.join(used)}: deactivate it instead (is_active: false), "
        "so that history keeps its inbox."
    ]


def inbox_delete(*, inbox: Inbox) -> None:
    """Delete an inbox that never carried anything (one made by mistake); ``DomainError`` otherwise."""
    with transaction.atomic():
        # Work not committed yet is invisible here; if it names this inbox, its commit fails on the foreign key
        # (checked at commit), so nothing is ever left pointing at, or silently cut from, a deleted inbox.
        inbox = Inbox.objects.select_for_update().get(pk=inbox.pk)
        reasons = inbox_delete_blockers(inbox=inbox)
        if reasons:
            raise DomainError(" ".join(reasons), code="inbox_in_use")
        inbox.delete()
    logger.info("inbox %s deleted", inbox.pk)


def inbox_mark_reauthorised(*, inbox: Inbox) -> bool:
    """An administrator says the inbox's credentials work again: back to ``active``, and the replies that waited
    for it leave. False if it already was."""
    with transaction.atomic():
        updated = (
            Inbox.objects.filter(pk=inbox.pk)
            .exclude(state=InboxState.ACTIVE)
            .update(state=InboxState.ACTIVE, state_detail="")
        )
        if updated:
            inbox.state, inbox.state_detail = InboxState.ACTIVE, ""
            waiting = delivery_resume_inbox(inbox=inbox)
            logger.info("inbox %s marked re-authorised; %s waiting deliveries resumed", inbox.pk, waiting)
    return bool(updated)


def inbox_rotate_token(*, inbox: Inbox) -> Inbox:
    """A new inbound URL: the old one stops working at once (e.g. it leaked). Show the new one once."""
    inbox.token = new_inbox_token()
    inbox.save(update_fields=["token", "updated_at"])
    logger.info("inbox %s got a new inbound token", inbox.pk)
    return inbox
