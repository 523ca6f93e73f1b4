"""Creating, changing and deleting queues and SLA policies (the contact center's set-up).

Shape checks (types, ranges, known channels) belong to the callers' forms and serializers; what
depends on other rows — the overflow chain, taken names, what still uses a queue or a policy — is
checked here, so the API and the admin enforce the same rules. Rule violations raise
``ValidationError`` with field messages (a 400 in the API; a taken name, code ``duplicate``, a 409);
deletions blocked by live data raise ``DomainError`` (a 409).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from agents.models import Skill, Team

# The code of a "name already taken" error: the API answers it with 409 (a conflict with existing data).
from config.errors import (
    DUPLICATE,  # noqa: E402,F401  (the code the API maps to 409)
    DomainError,
)

from ..choices import OPEN_STATUSES, SurveyKind
from ..models import BusinessHours, Interaction, Queue, QueueSkill, SLAPolicy, SLATarget
from .sla import sla_check_escalation_steps, sla_request_recompute

# Transaction-scoped advisory lock taken while an overflow link changes: two concurrent edits
# (A → B and B → A) would each pass the cycle check on their own snapshot and together form a cycle.
_OVERFLOW_LOCK_KEY = 0x5B0F_0001

QUEUE_FIELDS = frozenset(
    {
        "name",
        "description",
        "team",
        "channels",
        "priority",
        "sla_policy",
        "overflow_queue",
        "overflow_after_seconds",
        "service_level_seconds",
        "service_level_target",
        "accept_timeout_seconds",
        "auto_accept",
        "surveys_enabled",
        "survey_kind",
        "survey_delay_seconds",
        "is_active",
    }
)
SLA_POLICY_FIELDS = frozenset(
    {"name", "description", "business_hours", "escalation_steps", "pause_on_hold", "is_active"}
)


@dataclass(frozen=True)
class SkillRequirement:
    skill: Skill
    min_level: int


@dataclass(frozen=True)
class TargetSpec:
    channel: str
    priority: int | None
    first_response_seconds: int
    next_response_seconds: int | None = None
    resolution_seconds: int | None = None


def queue_check_overflow(*, queue: Queue | None, overflow_queue: Queue | None, overflow_after_seconds: int | None):
    """Raise ``ValidationError`` unless the overflow settings are consistent and the chain has no cycle.

    ``queue`` is None for a queue not saved yet (a new queue cannot be part of a cycle).
    """
    if (overflow_queue is None) != (overflow_after_seconds is None):
        raise ValidationError(
            {"overflow_after_seconds": "Set the overflow queue and the overflow time together, or neither."}
        )
    if overflow_queue is None or queue is None or queue.pk is None:
        return
    if overflow_queue.pk == queue.pk:
        raise ValidationError({"overflow_queue": "A queue cannot overflow into itself."})
    # Walk the chain from the new target: reaching this queue again means the link closes a loop.
    seen = {queue.pk}
    current = overflow_queue.pk
    while current is not None:
        if current in seen:
            raise ValidationError({"overflow_queue": "This overflow would form a cycle of queues."})
        seen.add(current)
        current = Queue.objects.filter(pk=current).values_list("overflow_queue_id", flat=True).first()


def _lock_overflow_graph() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_OVERFLOW_LOCK_KEY])


def _check_queue_name(*, name: str, exclude_pk: int | None) -> None:
    others = Queue.objects.filter(name__iexact=name.strip())
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    if others.exists():
        raise ValidationError(
            {"name": ValidationError(f"A queue named '{name.strip()}' already exists.", code=DUPLICATE)}
        )


def _set_required_skills(*, queue: Queue, required_skills: Iterable[SkillRequirement]) -> None:
    requirements = list(required_skills)
    if len({r.skill.pk for r in requirements}) != len(requirements):
        raise ValidationError({"required_skills": "Each skill may be required once."})
    QueueSkill.objects.filter(queue=queue).delete()
    QueueSkill.objects.bulk_create(
        [QueueSkill(queue=queue, skill=r.skill, min_level=r.min_level) for r in requirements]
    )


def queue_create(
    *,
    name: str,
    channels: list[str],
    description: str = "",
    team: Team | None = None,
    required_skills: Iterable[SkillRequirement] = (),
    priority: int = 5,
    sla_policy: SLAPolicy | None = None,
    overflow_queue: Queue | None = None,
    overflow_after_seconds: int | None = None,
    service_level_seconds: int = 20,
    service_level_target: Decimal = Decimal("0.800"),
    accept_timeout_seconds: int | None = 30,
    auto_accept: bool = False,
    surveys_enabled: bool = True,
    survey_kind: str = SurveyKind.CSAT,
    survey_delay_seconds: int | None = None,
    is_active: bool = True,
) -> Queue:
    """Create a queue with its skill requirements."""
    queue_check_overflow(queue=None, overflow_queue=overflow_queue, overflow_after_seconds=overflow_after_seconds)
    with transaction.atomic():
        _check_queue_name(name=name, exclude_pk=None)
        queue = Queue.objects.create(
            name=name.strip(),
            description=description,
            team=team,
            channels=list(channels),
            priority=priority,
            sla_policy=sla_policy,
            overflow_queue=overflow_queue,
            overflow_after_seconds=overflow_after_seconds,
            service_level_seconds=service_level_seconds,
            service_level_target=service_level_target,
            accept_timeout_seconds=accept_timeout_seconds,
            auto_accept=auto_accept,
            surveys_enabled=surveys_enabled,
            survey_kind=survey_kind,
            survey_delay_seconds=survey_delay_seconds,
            is_active=is_active,
        )
        _set_required_skills(queue=queue, required_skills=required_skills)
    return queue


def queue_update(
    *, queue: Queue, data: Mapping[str, Any], required_skills: Iterable[SkillRequirement] | None = None
) -> Queue:
    """Change the given fields of a queue; ``required_skills``, when given, replaces all its requirements."""
    unknown = set(data) - QUEUE_FIELDS
    if unknown:
        raise ValueError(f"queue_update got unknown fields: {', '.join(sorted(unknown))}")
    data = {**data, "name": data["name"].strip()} if "name" in data else dict(data)
    with transaction.atomic():
        queue = Queue.objects.select_for_update().get(pk=queue.pk)
        if "name" in data:
            _check_queue_name(name=data["name"], exclude_pk=queue.pk)
        changed = [field for field, value in data.items() if getattr(queue, field) != value]
        for field in changed:
            setattr(queue, field, data[field])
        if {"overflow_queue", "overflow_after_seconds"} & set(changed):
            _lock_overflow_graph()
            queue_check_overflow(
                queue=queue, overflow_queue=queue.overflow_queue, overflow_after_seconds=queue.overflow_after_seconds
            )
        if changed:
            queue.save(update_fields=changed)
        if "sla_policy" in changed:
            sla_request_recompute(queue_ids=[queue.pk])
        if required_skills is not None:
            _set_required_skills(queue=queue, required_skills=required_skills)
    return queue


def queue_delete_blockers(*, queue: Queue) -> list[str]:
    """Why the queue cannot be deleted now (empty: it can): open work in it, or queues overflowing into it."""
    reasons = []
    if Interaction.objects.filter(queue=queue, status__in=sorted(OPEN_STATUSES)).exists():
        reasons.append(f"Queue '{queue.name}' still holds open interactions; move or finish them first.")
    sources = list(Queue.objects.filter(overflow_queue=queue).values_list("name", flat=True))
    if sources:
        reasons.append(f"Queue '{queue.name}' is the overflow of {', '.join(sources)}; change those queues first.")
    return reasons


def queue_delete(*, queue: Queue) -> None:
    """Delete a queue that holds no open work and that no other queue overflows into.

    Its past (closed) interactions stay, without a queue; deactivate a queue instead to keep it in reports.
    """
    with transaction.atomic():
        queue = Queue.objects.select_for_update().get(pk=queue.pk)
        reasons = queue_delete_blockers(queue=queue)
        if reasons:
            raise DomainError(" ".join(reasons), code="queue_in_use")
        queue.delete()


def _check_policy_name(*, name: str, exclude_pk: int | None) -> None:
    others = SLAPolicy.objects.filter(name__iexact=name.strip())
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    if others.exists():
        raise ValidationError(
            {"name": ValidationError(f"An SLA policy named '{name.strip()}' already exists.", code=DUPLICATE)}
        )


def sla_check_targets(*, targets: Iterable[TargetSpec]) -> None:
    """Raise a ``targets`` ``ValidationError`` for a repeated (channel, priority) or a resolution before first response.

    The database's unique constraint treats two "any priority" rows as equal too (NULLS NOT DISTINCT).
    """
    specs = list(targets)
    keys = [(t.channel, t.priority) for t in specs]
    if len(set(keys)) != len(keys):
        raise ValidationError({"targets": "Each (channel, priority) pair may appear once."})
    for spec in specs:
        if spec.resolution_seconds is not None and spec.resolution_seconds < spec.first_response_seconds:
            raise ValidationError({"targets": "A resolution target cannot be shorter than its first-response target."})


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
                {"targets": "Each (channel, priority) pair may appear once, the policy's own one included."}
            ) from None
        raise exc
    if not specs:
        raise ValidationError({"targets": "A policy needs a target: give first_response_seconds or targets."})
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
