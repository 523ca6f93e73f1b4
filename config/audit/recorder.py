"""The audit log's recorder: who changed which object, from where, which fields from what to what.

One log for every door (issue 16, item 4). A change is recorded when it happens inside an *audit context*: a
request (``AuditMiddleware``: the admin, the API, the HTML views) or a management command (``AuditedCommand``).
Inside one, every save, delete and many-to-many change of an audited model becomes one entry, whatever code
made it, so a service called from the admin, the API or a command is on record without each caller remembering
to log. Beat tasks and workers run outside any context: their changes are the system's, already on record in the
domain's own logs (interaction events, status log, supervisor actions).

This module sits in ``config`` so that every app can reach it; it writes through the ``audit_write`` hook, which
``agents`` (where ``AuditEntry`` lives) fills, so ``config`` imports no app.

Personal data never enters the log: for a model holding a customer's data (a foreign-key path to
``contacts.Customer``), an entry names the changed fields only ("changed"), never their values, and its object is
"Customer #12", not the name: erasing a customer needs nothing from the audit log. Secrets (tokens, passwords,
key hashes) are masked the same way on every model.
"""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.apps import apps
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import FieldDoesNotExist
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Model
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from config.client_ip import client_ip
from config.hooks import Hook

CHANGED = "changed"  # what a personal or secret value is recorded as
AUDITED_APPS = frozenset({"auth", "contacts", "agents", "crm"})
# The logs themselves (append-only records of what happened) and technical rows: recorded by their own tables.
NOT_AUDITED = frozenset({
    "agents.AuditEntry", "agents.AgentStatusLog", "agents.SupervisorAction", "agents.BreakDueNotice",
    "auth.Permission", "contacts.ConsentRecord", "crm.InteractionEvent", "crm.Assignment", "crm.Escalation",
    "crm.Delivery", "crm.InboundReceipt", "crm.WebhookDelivery", "crm.WebhookAttempt", "crm.DeadLetter",
    "crm.IdempotencyRecord",
})  # fmt: skip
# Administrators' business (keys, webhooks, users and roles): their entries belong to no team, so no supervisor
# reads them (docs/security.md).
ADMINISTRATORS_ONLY = frozenset({"crm.ApiKey", "crm.Webhook", "auth.User", "auth.Group"})
# Columns that change by themselves (bookkeeping): a save changing only these is no change to record.
IGNORED_FIELDS = frozenset({"last_login", "last_used_at", "updated_at"})
KNOWN_ROW = "_audit_known_row"  # an instance's values as read under its row lock (config.audit.known)
SECRET = re.compile(r"(token|secret|password|passwd|hash|signing|credential|(^|_)key$|^key_)", re.IGNORECASE)
REPR_MAX = 200


@dataclass(frozen=True)
class AuditRecord:
    """One entry as the recorder hands it to the ``audit_write`` handlers."""

    action: str
    source: str
    actor: str
    actor_user_id: int | None = None
    actor_api_key_id: int | None = None
    client_ip: str | None = None
    model: type[Model] | None = None
    object_id: str = ""
    object_repr: str = ""
    changes: dict[str, Any] = field(default_factory=dict)
    team_id: int | None = None
    at: datetime | None = None  # when it was recorded (a batch is written later, each entry keeps its own time)


audit_write: Hook = Hook(
    "audit_write", "Called with one ``AuditRecord`` per change, in the changing transaction; writes the entry."
)


@dataclass
class AuditContext:
    """Who is acting (a request or a command), and what the admin action in progress is called, if any."""

    source: str
    request: Any = None
    actor: str = ""
    action: str = ""
    recorded: int = 0
    m2m: dict = field(default_factory=dict)  # (model, pk, accessor) -> (instance, pks before)
    who: dict | None = None  # the actor, worked out at the first change (after DRF has authenticated the request)
    who_known: bool = False
    batch: list | None = None  # inside ``audit_batched``: the records waiting for the block's end

    def acting(self) -> dict | None:
        if not self.who_known:
            self.who, self.who_known = _actor(self), True
        return self.who


_current: ContextVar[AuditContext | None] = ContextVar("switchboard_audit", default=None)


def current() -> AuditContext | None:
    return _current.get()


@contextmanager
def audit_context(*, source: str, request=None, actor: str = "", action: str = ""):
    """Record the changes made inside the block as done by this request or actor (contexts nest: the inner wins)."""
    context = AuditContext(source=source, request=request, actor=actor, action=action)
    token = _current.set(context)
    try:
        yield context
    finally:
        try:
            _flush_m2m(context)
        finally:
            _current.reset(token)


# --- which models, which values ------------------------------------------------------------------------------


def is_audited(model) -> bool:
    meta = model._meta
    return meta.app_label in AUDITED_APPS and meta.label not in NOT_AUDITED and not meta.proxy and meta.managed


_personal_cache: dict[str, bool] = {}


def is_personal(model) -> bool:
    """Whether ``model`` holds a customer's data: it is ``contacts.Customer`` or has a foreign-key path to it."""
    label = model._meta.label
    if label not in _personal_cache:
        _personal_cache[label] = _reaches_customer(model, depth=4, seen=set())
    return _personal_cache[label]


def _reaches_customer(model, *, depth: int, seen: set) -> bool:
    if model._meta.label == "contacts.Customer":
        return True
    if depth == 0 or model in seen:
        return False
    seen.add(model)
    return any(
        f.many_to_one or f.one_to_one
        for f in model._meta.concrete_fields
        if f.is_relation and _reaches_customer(f.related_model, depth=depth - 1, seen=seen)
    )


def _scrub(value: Any) -> Any:
    """Secrets inside JSON (an inbox's adapter settings: {"auth_token": …}) are masked by their key too."""
    if isinstance(value, dict):
        return {k: CHANGED if SECRET.search(str(k)) else _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


_AS_IS = frozenset({str, int, bool, type(None)})  # what the JSON round trip below gives back unchanged


def _plain(value: Any) -> Any:
    if type(value) in _AS_IS:  # most values: no round trip (enum members, subclasses of these, still take it)
        return value
    if isinstance(value, dict | list):
        value = _scrub(value)
    if isinstance(value, FieldFile):
        return value.name or ""
    if isinstance(value, bytes | memoryview):
        return CHANGED
    try:
        return json.loads(json.dumps(value, cls=DjangoJSONEncoder))
    except (TypeError, ValueError):  # a value JSON cannot hold (a range, a time zone…): its text
        return str(value)


def _fields(model) -> list:
    return [
        f for f in model._meta.concrete_fields if not getattr(f, "auto_now", False) and f.name not in IGNORED_FIELDS
    ]


def snapshot(instance) -> dict[str, Any]:
    return {f.name: f.value_from_object(instance) for f in _fields(type(instance))}


_FREE_VALUES = (models.CharField, models.TextField, models.JSONField, models.FileField, models.BinaryField,
                models.GenericIPAddressField)  # fmt: skip
_masked_cache: dict[tuple[str, str], bool] = {}


def is_masked(model, name: str) -> bool:
    """Whether a field's values stay out of the log: secrets on every model; on a model of a customer's data, any
    free value (text, JSON, arrays, files, addresses). Choices, numbers, dates, flags and relation ids are kept,
    so an interaction's status, queue and agent still read old -> new."""
    key = (model._meta.label, name)
    if key not in _masked_cache:
        masked = bool(SECRET.search(name))
        if not masked and is_personal(model):
            try:
                f = model._meta.get_field(name)
            except FieldDoesNotExist:
                masked = True
            else:
                free = isinstance(f, _FREE_VALUES) and not f.choices
                masked = free or isinstance(f, ArrayField) or f.many_to_many and is_personal(f.related_model)
        _masked_cache[key] = masked
    return _masked_cache[key]


def diff(model, before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """``{field: [old, new]}`` for the fields that changed (``"changed"`` alone for personal or secret ones)."""
    changes = {}
    for name, new in after.items():
        old = before.get(name)
        if old != new:
            changes[name] = CHANGED if is_masked(model, name) else [_plain(old), _plain(new)]
    return changes


def object_repr(instance) -> str:
    if is_personal(type(instance)):
        return f"{instance._meta.verbose_name} #{instance.pk}"[:REPR_MAX]
    try:
        return str(instance)[:REPR_MAX]
    except Exception:  # noqa: BLE001  (a __str__ reading a deleted relation must not break the change)
        return f"{instance._meta.verbose_name} #{instance.pk}"[:REPR_MAX]


_TEAM_PATHS = (("team_id",), ("agent", "team_id"), ("queue", "team_id"), ("interaction", "queue", "team_id"),
               ("inbox", "queue", "team_id"), ("agent_profile", "team_id"))  # fmt: skip


def team_of(instance) -> int | None:
    """The team an object belongs to (itself, its agent's, its queue's…), so supervisors see their teams' entries."""
    if instance._meta.label in ADMINISTRATORS_ONLY:
        return None
    if instance._meta.label == "agents.Team":
        return instance.pk
    if instance._meta.label == "auth.User":
        agent = apps.get_model("agents", "Agent")._default_manager.filter(user_id=instance.pk).first()
        return agent.team_id if agent else None
    for path in _TEAM_PATHS:
        value = instance
        try:
            for attribute in path:
                value = getattr(value, attribute)
                if value is None:
                    break
        except Exception:  # noqa: BLE001,S112  (no such relation on this model, or the related row is gone)
            continue
        if value is not None and not isinstance(value, Model):
            return value
    return None


# --- who -----------------------------------------------------------------------------------------------------


def _actor(context: AuditContext) -> dict[str, Any] | None:
    """The actor's fields, or None when nobody is acting (an anonymous request: the outside world, not a change
    by anyone — an inbound webhook, a customer's survey answer — is on record in the domain's own logs)."""
    request = context.request
    if request is None:
        return {"actor": context.actor or "system", "source": context.source}
    auth = getattr(request, "auth", None)
    user = getattr(request, "user", None)
    address = client_ip(request)
    source = context.source
    match = getattr(request, "resolver_match", None)
    if match is not None and "admin" in match.namespaces:
        source = "admin"
    elif request.path.startswith("/api/"):
        source = "api"
    if auth is not None and getattr(getattr(auth, "_meta", None), "label", "") == "crm.ApiKey":
        return {"actor": f"API key {auth}"[:REPR_MAX], "actor_api_key_id": auth.pk, "client_ip": address,
                "source": source}  # fmt: skip
    if user is not None and user.is_authenticated and getattr(user, "pk", None) is not None:
        return {"actor": user.get_username()[:REPR_MAX], "actor_user_id": user.pk, "client_ip": address,
                "source": source}  # fmt: skip
    return None


def record(*, action: str, instance=None, model=None, object_id: str = "", changes=None, context=None) -> bool:
    """Write one entry for the current context (or ``context``); False when there is none or nobody acts."""
    context = context or current()
    if context is None:
        return False
    who = context.acting()
    if who is None:
        return False
    model = model or (type(instance) if instance is not None else None)
    entry = AuditRecord(
        action=context.action or action,
        model=model,
        object_id=str(instance.pk if instance is not None else object_id),
        object_repr=object_repr(instance) if instance is not None else "",
        changes=changes or {},
        team_id=team_of(instance) if instance is not None else None,
        at=timezone.now(),
        **who,
    )
    if context.batch is not None:
        context.batch.append(entry)
    else:
        for handler in audit_write:
            handler(entry)
    context.recorded += 1
    return True


# --- signal receivers (connected in config.apps) -------------------------------------------------------------


def _recording(sender) -> bool:
    context = current()
    return context is not None and is_audited(sender) and context.acting() is not None


def on_pre_save(sender, instance, raw=False, using=None, update_fields=None, **kwargs) -> None:
    if raw or instance._state.adding or instance.pk is None or not _recording(sender):
        return
    names = [f.name for f in _fields(sender) if update_fields is None or f.name in update_fields
             or f.attname in update_fields]  # fmt: skip
    known = instance.__dict__.pop(KNOWN_ROW, None)  # read under the row's lock just before (config.audit.known)
    if known is not None:
        instance.__dict__["_audit_before"] = {n: known[n] for n in names}
        return
    attnames = {f.name: f.attname for f in _fields(sender)}
    row = sender._base_manager.using(using).filter(pk=instance.pk).values(*(attnames[n] for n in names)).first()
    instance.__dict__["_audit_before"] = {n: row[attnames[n]] for n in names} if row else None


def on_post_save(sender, instance, created, raw=False, update_fields=None, **kwargs) -> None:
    if raw or not _recording(sender):
        return
    before = instance.__dict__.pop("_audit_before", None)
    after = snapshot(instance)
    if created or before is None:
        changes = {n: (CHANGED if is_masked(sender, n) else [None, _plain(v)])
                   for n, v in after.items() if v not in (None, "", [], {})}  # fmt: skip
        record(action="create", instance=instance, changes=changes)
        return
    changes = diff(sender, before, {n: after[n] for n in before})
    if changes:
        record(action="update", instance=instance, changes=changes)


def on_post_delete(sender, instance, **kwargs) -> None:
    if not _recording(sender):
        return
    changes = {n: (CHANGED if is_masked(sender, n) else [_plain(v), None])
               for n, v in snapshot(instance).items() if v not in (None, "", [], {})}  # fmt: skip
    record(action="delete", instance=instance, changes=changes)


def _m2m_accessor(instance, through, reverse: bool) -> str | None:
    if not reverse:
        return next((f.name for f in instance._meta.many_to_many if f.remote_field.through is through), None)
    return next(
        (r.get_accessor_name() for r in instance._meta.related_objects
         if r.many_to_many and r.through is through),
        None,
    )  # fmt: skip


def on_m2m_changed(sender, instance, action, reverse, **kwargs) -> None:
    """Many-to-many changes (a user's groups, a team's supervisors) are recorded once per object and field when the
    context ends, old set -> new set: ``set()`` removes then adds, which must read as one change."""
    context = current()
    if not action.startswith("pre_") or not _recording(type(instance)):
        return
    accessor = _m2m_accessor(instance, sender, reverse)
    if accessor is None:
        return
    key = (type(instance), instance.pk, accessor)
    if key not in context.m2m:
        context.m2m[key] = (instance, _pks(instance, accessor))


def _pks(instance, accessor: str) -> list:
    return sorted(getattr(instance, accessor).values_list("pk", flat=True))


def _flush_m2m(context: AuditContext) -> None:
    pending, context.m2m = context.m2m, {}
    for (model, _pk, accessor), (instance, before) in pending.items():
        if not model._default_manager.filter(pk=instance.pk).exists():
            continue
        after = _pks(instance, accessor)
        if after != before:
            value = CHANGED if is_masked(model, accessor) else [before, after]
            record(action="update", instance=instance, changes={accessor: value}, context=context)
