"""Creating, changing and deleting SLA policies and their targets.

Shape checks belong to the callers' forms and serializers; what depends on other rows — taken names, the
queues still using a policy — is checked here, so the API and the admin enforce the same rules. Rule
violations raise ``ValidationError`` with field messages (a taken name, code ``duplicate``, is a 409 in the
API); deleting a policy a queue uses is a ``DomainError``. A change that moves due times asks for the open
interactions under the policy to be recomputed after the commit.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from config.errors import DUPLICATE, DomainError
from crm.routing.models import Queue

from ..models import BusinessHours, SLAPolicy, SLATarget
from .engine import sla_request_recompute
from .steps import sla_check_escalation_steps

SLA_POLICY_FIELDS = frozenset(
    {"name", "description", "business_hours", "escalation_steps", "pause_on_hold", "is_active"}
)


@dataclass(frozen=True)
class TargetSpec:
    channel: str
    priority: int | None
    first_response_seconds: int
    next_response_seconds: int | None = None
    resolution_seconds: int | None = None


def _check_policy_name(*, name: str, exclude_pk: int | None) -> None:
    others = SLAPolicy.objects.filter(name__iexact=name.strip())
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    if others.exists():
        raise ValidationError(
            {
                "name": ValidationError(
                    _("An SLA policy named '%(strip)s' already exists.") % {"strip": name.strip()}, code=DUPLICATE
                )
            }
        )


def sla_check_targets(*, targets: Iterable[TargetSpec]) -> None:
    """Raise a ``targets`` ``ValidationError`` for a repeated (channel, priority) or a resolution before first response.

    The database's unique constraint treats two "any priority" rows as equal too (NULLS NOT DISTINCT).
    """
    specs = list(targets)
    keys = [(t.channel, t.priority) for t in specs]
    if len(set(keys)) != len(keys):
        raise ValidationError({"targets": _("Each (channel, priority) pair may appear once.")})
    for spec in specs:
        if spec.resolution_seconds is not None and spec.resolution_seconds < spec.first_response_seconds:
            raise ValidationError(
                {"targets": _("A resolution target cannot be shorter than its first-response target.")}
            )


def _set_targets(
    *, policy: SLAPolicy, targets: Iterable[TargetSpec] | None, default_target: TargetSpec | None | object
) -> None:
    """Replace the overrides (``targets``, when not None) and/or the default target (when not ``KEEP``)."""
    existing = list(SLATarget.objects.filter(policy=policy))
    default = next((t for t in existing if t.is_default), None) if default_target is KEEP else default_target
    overrides = (
        [t for t in existing if not t.is_default] if targets is None else [_target_row(policy, t) for t in targets]
    )
    default_spec = target_spec(default) if isinstance(default, SLATarget) else default
    specs = [target_spec(t) for t in overrides] + ([default_spec] if default_spec else [])
    try:
        sla_check_targets(targets=specs)
    except ValidationError as exc:
        if default_spec and len({(t.channel, t.priority) for t in specs}) != len(specs):
            raise ValidationError(
                {"targets": _("Each (channel, priority) pair may appear once, the policy's own one included.")}
            ) from None
        raise exc
    if not specs:
        raise ValidationError({"targets": _("A policy needs a target: give first_response_seconds or targets.")})
    SLATarget.objects.filter(policy=policy).delete()
    rows = [_target_row(policy, target_spec(t) if isinstance(t, SLATarget) else t) for t in overrides]
    if default_spec:
        rows.append(_target_row(policy, default_spec, is_default=True))
    SLATarget.objects.bulk_create(rows)


KEEP = object()


def target_spec(target: SLATarget) -> TargetSpec:
    return TargetSpec(
        channel=target.channel,
        priority=target.priority,
        first_response_seconds=target.first_response_seconds,
        next_response_seconds=target.next_response_seconds,
        resolution_seconds=target.resolution_seconds,
    )


def _target_row(policy: SLAPolicy, t: TargetSpec, *, is_default: bool = False) -> SLATarget:
    return SLATarget(
        policy=policy,
        channel=t.channel,
        priority=t.priority,
        first_response_seconds=t.first_response_seconds,
        next_response_seconds=t.next_response_seconds,
        resolution_seconds=t.resolution_seconds,
        is_default=is_default,
    )


def sla_policy_create(
    *,
    name: str,
    targets: Iterable[TargetSpec] = (),
    default_target: TargetSpec | None = None,
    description: str = "",
    business_hours: BusinessHours | None = None,
    escalation_steps: list | tuple = (),
    pause_on_hold: bool = False,
    is_active: bool = True,
) -> SLAPolicy:
    """Create an SLA policy with its default target (the API's flat fields) and per-channel/priority overrides."""
    steps = sla_check_escalation_steps(list(escalation_steps))
    with transaction.atomic():
        _check_policy_name(name=name, exclude_pk=None)
        policy = SLAPolicy.objects.create(
            name=name.strip(),
            description=description,
            business_hours=business_hours,
            escalation_steps=steps,
            pause_on_hold=pause_on_hold,
            is_active=is_active,
        )
        _set_targets(policy=policy, targets=list(targets), default_target=default_target)
    return policy


def sla_policy_update(
    *,
    policy: SLAPolicy,
    data: Mapping[str, Any],
    targets: Iterable[TargetSpec] | None = None,
    default_target: TargetSpec | None | object = KEEP,
) -> SLAPolicy:
    """Change the given fields of a policy; ``targets`` (when given) replaces its overrides, ``default_target``
    (when given; None removes it) its default target.

    The open interactions under the policy get their due times recomputed after the commit (a task), so a
    changed target, calendar or escalation plan applies to work already waiting.
    """
    unknown = set(data) - SLA_POLICY_FIELDS
    if unknown:
        raise ValueError(f"sla_policy_update got unknown fields: {', '.join(sorted(unknown))}")
    data = {**data, "name": data["name"].strip()} if "name" in data else dict(data)
    if "escalation_steps" in data:
        data["escalation_steps"] = sla_check_escalation_steps(list(data["escalation_steps"]))
    with transaction.atomic():
        policy = SLAPolicy.objects.select_for_update().get(pk=policy.pk)
        if "name" in data:
            _check_policy_name(name=data["name"], exclude_pk=policy.pk)
        changed = [field for field, value in data.items() if getattr(policy, field) != value]
        for field in changed:
            setattr(policy, field, data[field])
        if changed:
            policy.save(update_fields=[*changed, "updated_at"])
        retargeted = targets is not None or default_target is not KEEP
        if retargeted:
            _set_targets(
                policy=policy, targets=None if targets is None else list(targets), default_target=default_target
            )
        if retargeted or set(changed) - {"name", "description"}:
            sla_request_recompute(policy_ids=[policy.pk])
    return policy


def sla_policy_delete_blockers(*, policy: SLAPolicy) -> list[str]:
    """Why the policy cannot be deleted now (empty: it can): the queues that use it."""
    users = list(Queue.objects.filter(sla_policy=policy).values_list("name", flat=True)[:11])
    if not users:
        return []
    shown = ", ".join(users[:10]) + (" …" if len(users) > 10 else "")
    return [f"SLA policy '{policy.name}' is used by queue(s) {shown}; change those queues first."]


def sla_policy_delete(*, policy: SLAPolicy) -> None:
    """Delete a policy no queue uses.

    Deleting one in use would silently leave its queues without any service-level promise (the foreign
    key would fall back to none), so it is refused: point the queues at another policy, or deactivate it.
    """
    with transaction.atomic():
        policy = SLAPolicy.objects.select_for_update().get(pk=policy.pk)
        reasons = sla_policy_delete_blockers(policy=policy)
        if reasons:
            raise DomainError(" ".join(reasons), code="sla_policy_in_use")
        policy.delete()
