"""Creating, changing and deleting queues (the contact center's set-up; SLA policies: ``crm.sla.services.policies``).

Shape checks (types, ranges, known channels) belong to the callers' forms and serializers; what
depends on other rows — the overflow chain, taken names, what still uses a queue — is
checked here, so the API and the admin enforce the same rules. Rule violations raise
``ValidationError`` with field messages (a 400 in the API; a taken name, code ``duplicate``, a 409);
deletions blocked by live data raise ``DomainError`` (a 409). A saved change calls the ``queue_changed``
hook (``crm.routing.hooks``) in its transaction.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Model
from django.utils.translation import gettext as _

from agents.models import Skill, Team

# The code of a "name already taken" error: the API answers it with 409 (a conflict with existing data).
from config.errors import (
    DUPLICATE,  # noqa: E402,F401  (the code the API maps to 409)
    DomainError,
)
from crm.choices import OPEN_STATUSES, SurveyKind
from crm.interactions.models import Interaction

from ..hooks import run_queue_changed
from ..models import Queue, QueueSkill

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


@dataclass(frozen=True)
class SkillRequirement:
    skill: Skill
    min_level: int


def queue_check_overflow(*, queue: Queue | None, overflow_queue: Queue | None, overflow_after_seconds: int | None):
    """Raise ``ValidationError`` unless the overflow settings are consistent and the chain has no cycle.

    ``queue`` is None for a queue not saved yet (a new queue cannot be part of a cycle).
    """
    if (overflow_queue is None) != (overflow_after_seconds is None):
        raise ValidationError(
            {"overflow_after_seconds": _("Set the overflow queue and the overflow time together, or neither.")}
        )
    if overflow_queue is None or queue is None or queue.pk is None:
        return
    if overflow_queue.pk == queue.pk:
        raise ValidationError({"overflow_queue": _("A queue cannot overflow into itself.")})
    # Walk the chain from the new target: reaching this queue again means the link closes a loop.
    seen = {queue.pk}
    current = overflow_queue.pk
    while current is not None:
        if current in seen:
            raise ValidationError({"overflow_queue": _("This overflow would form a cycle of queues.")})
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
            {
                "name": ValidationError(
                    _("A queue named '%(strip)s' already exists.") % {"strip": name.strip()}, code=DUPLICATE
                )
            }
        )


def _set_required_skills(*, queue: Queue, required_skills: Iterable[SkillRequirement]) -> None:
    requirements = list(required_skills)
    if len({r.skill.pk for r in requirements}) != len(requirements):
        raise ValidationError({"required_skills": _("Each skill may be required once.")})
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
    sla_policy: Model | None = None,
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
            run_queue_changed(queue=queue, changed=frozenset(changed))
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
