"""Training services: assign courses, record results, remind before a pass expires, and expire lapsed passes.

A course that certifies a skill gates that skill for routing (``agents.selectors.agent_skill_certified_q``): the
filter compares ``expires_at`` with the clock, so a lapsed pass stops counting at once; the expiry sweep
marks the record ``expired`` and logs it, for people reading the records.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import DomainError

from .audit import supervisor_action_log
from .choices import OPEN_TRAINING_STATUSES, SupervisorActionKind, TrainingStatus
from .models import Agent, TrainingCourse, TrainingRecord, TrainingReminder
from .signals import training_expired, training_expiring

logger = logging.getLogger(__name__)

MAX_AGENTS_PER_ASSIGNMENT = 1000


@dataclass
class TrainingAssignment:
    created: list[TrainingRecord] = field(default_factory=list)
    # agents who already had an open record of the course: left as they were
    skipped: list[Agent] = field(default_factory=list)


def training_assign(
    *,
    course: TrainingCourse,
    agents: Iterable[Agent],
    actor: AbstractBaseUser | None = None,
    due_at: datetime | None = None,
) -> TrainingAssignment:
    """Assign ``course`` to many agents at once; an agent with an open record of it keeps that one (skipped)."""
    agents = list({agent.pk: agent for agent in agents}.values())
    if not agents:
        raise ValidationError({"agents": [_("Choose at least one agent.")]})
    if len(agents) > MAX_AGENTS_PER_ASSIGNMENT:
        raise ValidationError(
            {
                "agents": [
                    _("Assign to at most %(MAX_AGENTS_PER_ASSIGNMENT)s agents at once.")
                    % {"MAX_AGENTS_PER_ASSIGNMENT": MAX_AGENTS_PER_ASSIGNMENT}
                ]
            }
        )
    if not course.is_active:
        raise ValidationError({"course": [_("Course '%(course)s' is not active.") % {"course": course}]})
    now = timezone.now()
    if due_at is not None and due_at <= now:
        raise ValidationError({"due_at": [_("The due date must be in the future.")]})

    result = TrainingAssignment()
    with transaction.atomic():
        busy = set(
            TrainingRecord.objects.filter(
                course=course, agent__in=agents, status__in=sorted(OPEN_TRAINING_STATUSES)
            ).values_list("agent_id", flat=True)
        )
        result.skipped = [agent for agent in agents if agent.pk in busy]
        records = [
            TrainingRecord(agent=agent, course=course, assigned_at=now, assigned_by=actor, due_at=due_at)
            for agent in agents
            if agent.pk not in busy
        ]
        try:
            with transaction.atomic():
                result.created = TrainingRecord.objects.bulk_create(records)
        except IntegrityError:  # a concurrent assignment of the same course won the race
            raise DomainError(
                _("Course '%(course)s' was just assigned to some of these agents by someone else; try again.")
                % {"course": course}
            ) from None
        for record in result.created:
            supervisor_action_log(
                kind=SupervisorActionKind.TRAINING_ASSIGNED,
                agent=record.agent,
                actor=actor,
                object_id=record.pk,
                detail=f"{course}",
            )
    return result


def _lock_record(record: TrainingRecord) -> TrainingRecord:
    return TrainingRecord.objects.select_for_update(of=("self",)).select_related("course", "agent").get(pk=record.pk)


def training_start(*, record: TrainingRecord, actor: AbstractBaseUser | None = None) -> TrainingRecord:
    """The agent began the course (assigned → in progress); starting twice is harmless."""
    with transaction.atomic():
        locked = _lock_record(record)
        if locked.status == TrainingStatus.IN_PROGRESS:
            return locked
        if locked.status != TrainingStatus.ASSIGNED:
            raise DomainError(
                _("This record is %(lower)s; only assigned training starts.")
                % {"lower": locked.get_status_display().lower()}
            )
        locked.status = TrainingStatus.IN_PROGRESS
        locked.save(update_fields=["status"])
    return locked


def training_record_result(
    *,
    record: TrainingRecord,
    score: int,
    actor: AbstractBaseUser | None = None,
    completed_at: datetime | None = None,
) -> TrainingRecord:
    """Record a score: passed when it reaches the course's pass score, and then valid for its validity days.

    Only an open record takes a result; a new attempt is a new assignment, so the history of attempts stays.
    """
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100:
        raise ValidationError({"score": [_("Enter a whole number from 0 to 100.")]})
    now = timezone.now()
    completed_at = completed_at or now
    if timezone.is_naive(completed_at):
        raise ValidationError({"completed_at": [_("Give a time zone.")]})
    if completed_at > now:
        raise ValidationError({"completed_at": [_("The completion time cannot be in the future.")]})
    with transaction.atomic():
        locked = _lock_record(record)
        if locked.status not in OPEN_TRAINING_STATUSES:
            raise DomainError(
                _("This record is already %(lower)s; assign the course again for a new try.")
                % {"lower": locked.get_status_display().lower()}
            )
        if completed_at < locked.assigned_at:
            raise ValidationError({"completed_at": [_("The completion time cannot be before the assignment.")]})
        course = locked.course
        passed = score >= course.pass_score
        locked.score, locked.completed_at = score, completed_at
        locked.status = TrainingStatus.PASSED if passed else TrainingStatus.FAILED
        locked.expires_at = (
            completed_at + timedelta(days=course.validity_days) if passed and course.validity_days else None
        )
        locked.save(update_fields=["score", "completed_at", "status", "expires_at"])
        supervisor_action_log(
            kind=SupervisorActionKind.TRAINING_RESULT,
            agent=locked.agent,
            actor=actor,
            object_id=locked.pk,
            detail=f"{course}: {score} ({locked.get_status_display().lower()})",
        )
    record.status, record.score, record.completed_at, record.expires_at = (
        locked.status,
        locked.score,
        locked.completed_at,
        locked.expires_at,
    )
    return locked


def _renewed() -> Exists:
    """A later pass of the same course by the same agent: the older record needs no reminder nor expiry notice."""
    return Exists(
        TrainingRecord.objects.filter(
            agent=OuterRef("agent"),
            course=OuterRef("course"),
            status=TrainingStatus.PASSED,
            completed_at__gt=OuterRef("completed_at"),
        )
    )


def _recipients(agent: Agent) -> list[str]:
    emails = [agent.user.email]
    if agent.team_id:
        emails += list(agent.team.supervisors.exclude(email="").values_list("email", flat=True))
    return sorted({email for email in emails if email})


def _send_reminder(record: TrainingRecord, days_left: int) -> None:
    agent = record.agent
    recipients = _recipients(agent)
    if recipients:
        try:
            send_mail(
                subject=f"Training '{record.course}' of {agent.name} expires in {days_left} day(s)",
                message=(
                    f"{agent.name}'s pass of '{record.course}' expires on {record.expires_at:%Y-%m-%d %H:%M} UTC. "
                    "Renew it before then: afterwards the skill it certifies no longer counts for routing."
                ),
                from_email=None,
                recipient_list=recipients,
            )
        except Exception:  # the reminder row is committed; a mail outage must not hide the console notice
            logger.exception("training: reminder mail for record %s failed", record.pk)
    training_expiring.send_robust(sender=Agent, agent=agent, record=record, days_left=days_left)


def training_remind_due(*, now: datetime | None = None) -> int:
    """Remind agents and their supervisors (email + ``training_expiring``) before passes expire.

    Lead times come from ``SWITCHBOARD_TRAINING_REMINDER_DAYS`` (e.g. 30 and 7). Each record gets each
    reminder once (a unique row); a sweep that missed the 30-day mark sends only the nearest one still ahead.
    """
    now = now or timezone.now()
    leads = sorted({int(days) for days in settings.SWITCHBOARD_TRAINING_REMINDER_DAYS if int(days) > 0})
    if not leads:
        return 0
    records = (
        TrainingRecord.objects.filter(
            status=TrainingStatus.PASSED, expires_at__gt=now, expires_at__lte=now + timedelta(days=leads[-1])
        )
        .exclude(_renewed())
        .select_related("agent__user", "agent__team", "course")
    )
    sent = 0
    for record in records:
        remaining = record.expires_at - now
        lead = next(days for days in leads if remaining <= timedelta(days=days))
        if TrainingReminder.objects.filter(record=record, days_before__lte=lead).exists():
            continue  # this reminder, or a nearer one, went out already
        with transaction.atomic():
            try:
                with transaction.atomic():
                    TrainingReminder.objects.create(record=record, days_before=lead, sent_at=now)
            except IntegrityError:  # a concurrent sweep sent it
                continue
            days_left = max(remaining.days, 0)
            supervisor_action_log(
                kind=SupervisorActionKind.TRAINING_REMINDED,
                agent=record.agent,
                object_id=record.pk,
                detail=f"{record.course}: expires in {days_left} day(s)",
            )
            transaction.on_commit(lambda record=record, days_left=days_left: _send_reminder(record, days_left))
        sent += 1
    return sent


def training_expire_due(*, now: datetime | None = None) -> int:
    """Mark passes whose time is up ``expired``, log each and send ``training_expired`` (on commit)."""
    now = now or timezone.now()
    with transaction.atomic():
        lapsed = list(
            TrainingRecord.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=TrainingStatus.PASSED, expires_at__lte=now)
            .annotate(renewed=_renewed())
            .select_related("agent", "course")
            .order_by(F("expires_at").asc())[:500]
        )
        for record in lapsed:
            record.status = TrainingStatus.EXPIRED
            record.save(update_fields=["status"])
            supervisor_action_log(
                kind=SupervisorActionKind.TRAINING_EXPIRED,
                agent=record.agent,
                object_id=record.pk,
                detail=f"{record.course}"
                + (f": '{record.course.skill}' no longer certified" if record.course.skill_id else ""),
            )
            if not record.renewed:  # a renewed pass lapsing is no news to the agent
                transaction.on_commit(
                    lambda record=record: training_expired.send_robust(sender=Agent, agent=record.agent, record=record)
                )
    return len(lapsed)
