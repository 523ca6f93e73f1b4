"""Break services: request, approve, deny, start, end, send now; a supervisor setting an agent's status.

A started break puts the agent ``on_break`` through ``agent_set_status`` (logged), so routing sends them
nothing new while the work they own finishes; ending it brings them back ``available``. The team's
``BreakPolicy.max_on_break_share`` is enforced in ``break_start`` under the team row's lock, so two agents
starting at the same moment cannot both slip past it.

Which well-being breaks a policy says are due, and the sweep that records them: ``agents.break_policy``.

Nobody decides their own break: approving, denying, planning (``approved=True``) or sending now a break of
the actor's own agent profile raises ``NotAllowed`` (403 in the API), whoever calls; another supervisor of the
team or an administrator must. Taking (starting) or ending one's own approved break stays the agent's.
"""

import logging
import math
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from config.errors import DomainError, IllegalTransition, NotAllowed

from .audit import supervisor_action_log
from .choices import (
    BREAK_DEFAULT_MINUTES,
    BREAK_TRANSITIONS,
    PENDING_BREAK_STATUSES,
    AgentStatus,
    BreakKind,
    BreakStatus,
    SupervisorActionKind,
)
from .models import Agent, Break, BreakDueNotice, BreakPolicy, BreakType, Team
from .selectors import team_break_load
from .services import agent_set_status
from .signals import break_decided, break_ended, break_requested, break_started

logger = logging.getLogger(__name__)

MAX_BREAK_MINUTES = 480
REASON_MAX_LENGTH = Break._meta.get_field("reason").max_length
# A scheduled time this far in the past is taken as "now" (clocks of clients differ a little).
SCHEDULE_SLACK = timedelta(minutes=1)


def break_type_get(*, code: str) -> BreakType:
    """The break type of ``code``; the seeded row, made again with its usual length if someone deleted it."""
    kind = BreakKind(code)
    with translation.override(settings.LANGUAGE_CODE):  # stored data in the installation's language
        defaults = {"name": str(kind.label), "default_minutes": BREAK_DEFAULT_MINUTES[kind]}
    return BreakType.objects.get_or_create(code=kind, defaults=defaults)[0]


def _announce(signal, agent: Agent, **kwargs) -> None:
    transaction.on_commit(lambda: signal.send_robust(sender=Agent, agent=agent, **kwargs))


def _clean(*, minutes: int | None, reason: str, scheduled_for: datetime | None, now: datetime) -> str:
    errors: dict[str, list[str]] = {}
    if minutes is not None and (
        isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= MAX_BREAK_MINUTES
    ):
        errors["minutes"] = [f"Enter a whole number from 1 to {MAX_BREAK_MINUTES}."]
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX_LENGTH:
        errors["reason"] = [f"Ensure this field has no more than {REASON_MAX_LENGTH} characters."]
    if scheduled_for is not None:
        if timezone.is_naive(scheduled_for):
            errors["scheduled_for"] = ["Give a time zone."]
        elif scheduled_for < now - SCHEDULE_SLACK:
            errors["scheduled_for"] = ["The scheduled time cannot be in the past."]
    if errors:
        raise ValidationError(errors)
    return reason


def _not_own(agent: Agent, actor: AbstractBaseUser | None, refusal: str) -> None:
    """Refuse a decision on a break of the actor's own agent profile (a supervisor who is also an agent)."""
    if actor is not None and actor.pk is not None and actor.pk == agent.user_id:
        raise NotAllowed(
            _("%(refusal)s: another supervisor of your team or an administrator must decide it.")
            % {"refusal": refusal},
            code="own_break",
        )


def _lock(brk: Break) -> Break:
    return Break.objects.select_for_update(of=("self",)).select_related("agent", "break_type").get(pk=brk.pk)


def _move(brk: Break, status: str) -> None:
    if status not in BREAK_TRANSITIONS[brk.status]:
        raise IllegalTransition(
            _("This break is %(lower)s; it cannot become %(status)s.")
            % {"lower": brk.get_status_display().lower(), "status": status}
        )
    brk.status = status


def _sync(target: Break, source: Break) -> Break:
    for name in ("status", "approved_by_id", "decided_at", "scheduled_for", "started_at", "ended_at", "ended_by_id"):
        setattr(target, name, getattr(source, name))
    return source


def break_request(
    *,
    agent: Agent,
    break_type: BreakType,
    actor: AbstractBaseUser | None,
    reason: str = "",
    minutes: int | None = None,
    scheduled_for: datetime | None = None,
    approved: bool = False,
) -> Break:
    """Ask for a break (the agent), or put one in an agent's plan (a supervisor: ``approved=True``).

    An agent has at most one break waiting to be taken; asking again is refused (409). A break approved
    with ``scheduled_for`` is ``scheduled``, otherwise ``approved``: either is started by ``break_start``.
    """
    if approved:
        _not_own(agent, actor, "You cannot plan an approved break for yourself")
    now = timezone.now()
    reason = _clean(minutes=minutes, reason=reason, scheduled_for=scheduled_for, now=now)
    if not break_type.is_active:
        raise ValidationError(
            {"break_type": [_("'%(break_type)s' breaks are not offered.") % {"break_type": break_type}]}
        )
    status = BreakStatus.REQUESTED
    if approved:
        status = BreakStatus.SCHEDULED if scheduled_for else BreakStatus.APPROVED
    brk = Break(
        agent=agent,
        break_type=break_type,
        status=status,
        minutes=minutes or break_type.default_minutes,
        reason=reason,
        requested_at=now,
        requested_by=actor,
        scheduled_for=scheduled_for,
        approved_by=actor if approved else None,
        decided_at=now if approved else None,
    )
    pending_message = f"{agent.name} already has a break waiting to be taken; approve, start or deny that one first."
    with transaction.atomic():
        if Break.objects.filter(agent=agent, status__in=sorted(PENDING_BREAK_STATUSES)).exists():
            raise DomainError(pending_message, code="break_pending")
        try:
            with transaction.atomic():
                brk.save()
        except IntegrityError:
            raise DomainError(pending_message, code="break_pending") from None
        supervisor_action_log(
            kind=SupervisorActionKind.BREAK_REQUESTED if not approved else SupervisorActionKind.BREAK_APPROVED,
            agent=agent,
            actor=actor,
            object_id=brk.pk,
            detail=f"{break_type} {brk.minutes} min" + (f": {reason}" if reason else ""),
        )
        _announce(break_requested, agent, brk=brk)
    return brk


def break_approve(*, brk: Break, actor: AbstractBaseUser | None, scheduled_for: datetime | None = None) -> Break:
    """Approve a requested break, for now (``approved``) or for a time (``scheduled``)."""
    now = timezone.now()
    _clean(minutes=None, reason="", scheduled_for=scheduled_for, now=now)
    with transaction.atomic():
        locked = _lock(brk)
        _not_own(locked.agent, actor, "You cannot approve your own break")
        _move(locked, BreakStatus.SCHEDULED if scheduled_for else BreakStatus.APPROVED)
        locked.approved_by, locked.decided_at, locked.scheduled_for = actor, now, scheduled_for
        locked.save(update_fields=["status", "approved_by", "decided_at", "scheduled_for"])
        supervisor_action_log(
            kind=SupervisorActionKind.BREAK_APPROVED,
            agent=locked.agent,
            actor=actor,
            object_id=locked.pk,
            detail=f"for {scheduled_for:%H:%M}" if scheduled_for else "",
        )
        _announce(break_decided, locked.agent, brk=locked)
    return _sync(brk, locked)


def break_deny(*, brk: Break, actor: AbstractBaseUser | None, reason: str = "") -> Break:
    """Refuse (or withdraw) a break that has not started; the reason goes to the audit log."""
    reason = _clean(minutes=None, reason=reason, scheduled_for=None, now=timezone.now())
    with transaction.atomic():
        locked = _lock(brk)
        _not_own(locked.agent, actor, "You cannot deny your own break")
        _move(locked, BreakStatus.DENIED)
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "decided_at"])
        supervisor_action_log(
            kind=SupervisorActionKind.BREAK_DENIED, agent=locked.agent, actor=actor, object_id=locked.pk, detail=reason
        )
        _announce(break_decided, locked.agent, brk=locked)
    return _sync(brk, locked)


def _check_team_cap(agent: Agent) -> None:
    """Refuse a break that would put more than the policy's share of the logged-in team on break at once.

    One agent may always go (a share of a small team rounds down to nobody otherwise). Called with the team
    row locked, so concurrent starts in one team queue up here and each sees the others' result.
    """
    if agent.team_id is None:
        return
    team = Team.objects.select_for_update().get(pk=agent.team_id)
    policy = BreakPolicy.objects.filter(team=team, is_active=True).first()
    if policy is None:
        return
    on_break, logged_in = team_break_load(team=team)
    allowed = max(1, math.floor(float(policy.max_on_break_share) * logged_in))
    if on_break >= allowed:
        raise DomainError(
            f"{on_break} of the {logged_in} logged-in agents of {team} are on break already; the team's policy "
            f"allows {allowed} at once ({float(policy.max_on_break_share):.0%}), so queues stay served. "
            "The break stays approved: start it when someone is back.",
            code="break_cap_reached",
        )


def _start(locked: Break, *, actor, enforce_cap: bool, now: datetime) -> None:
    if enforce_cap:
        _check_team_cap(locked.agent)
    locked.status, locked.started_at = BreakStatus.STARTED, now
    try:
        with transaction.atomic():
            locked.save(update_fields=["status", "started_at", "approved_by", "decided_at"])
    except IntegrityError:
        raise DomainError(
            _("%(name)s is on another break already.") % {"name": locked.agent.name}, code="break_running"
        ) from None
    agent_set_status(agent=locked.agent, status=AgentStatus.ON_BREAK, actor=actor, reason=f"break: {locked.break_type}")
    BreakDueNotice.objects.filter(agent=locked.agent, taken__isnull=True).update(taken=locked)
    supervisor_action_log(
        kind=SupervisorActionKind.BREAK_STARTED,
        agent=locked.agent,
        actor=actor,
        object_id=locked.pk,
        detail=f"{locked.break_type} {locked.minutes} min",
    )
    _announce(break_started, locked.agent, brk=locked)


def break_start(*, brk: Break, actor: AbstractBaseUser | None, enforce_cap: bool = True) -> Break:
    """Take an approved or scheduled break now: the agent goes on break; their current work finishes.

    Refused (409, ``break_cap_reached``) when the team's share on break is reached; the break stays as it
    was, to be started later.
    """
    now = timezone.now()
    with transaction.atomic():
        locked = _lock(brk)
        if locked.approved_by_id is not None and locked.approved_by_id == locked.agent.user_id:
            # approved by the agent themself before this rule existed: someone else must start (so approve) it
            _not_own(locked.agent, actor, "You approved this break yourself, so you cannot start it")
        _move(locked, BreakStatus.STARTED)
        _start(locked, actor=actor, enforce_cap=enforce_cap, now=now)
    return _sync(brk, locked)


def break_start_scheduled(*, now: datetime | None = None, limit: int = 200) -> int:
    """Start the scheduled breaks whose time has come (beat); returns how many started.

    The agent's current work finishes (routing sends nothing new to an agent on break). A break the team's
    cap holds back stays scheduled and is tried again on the next run; an offline agent's waits until they
    log in and take it (or a supervisor starts it). Rows are claimed with SKIP LOCKED, so two runs never
    start one break twice.
    """
    now = now or timezone.now()
    due = list(
        Break.objects.filter(status=BreakStatus.SCHEDULED, scheduled_for__lte=now)
        .order_by("scheduled_for", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    started = 0
    for pk in due:
        with transaction.atomic():
            locked = (
                Break.objects.select_for_update(of=("self",), skip_locked=True)
                .select_related("agent", "break_type")
                .filter(pk=pk, status=BreakStatus.SCHEDULED)
                .first()
            )
            if locked is None or locked.agent.status == AgentStatus.OFFLINE:
                continue
            try:
                with transaction.atomic():
                    _move(locked, BreakStatus.STARTED)
                    _start(locked, actor=None, enforce_cap=True, now=now)
            except DomainError as refused:
                logger.info("breaks: scheduled break %s waits: %s", pk, refused)
                continue
            started += 1
    return started


def break_send_now(
    *,
    agent: Agent,
    actor: AbstractBaseUser | None,
    break_type: BreakType | None = None,
    minutes: int | None = None,
    reason: str = "",
    enforce_cap: bool = True,
) -> Break:
    """A supervisor sends an agent on break at once. A break the agent was waiting for is the one started
    (approved by the supervisor); otherwise a new one (well-being by default) is made and started."""
    _not_own(agent, actor, "You cannot send yourself on a break")
    now = timezone.now()
    reason = _clean(minutes=minutes, reason=reason, scheduled_for=None, now=now)
    break_type = break_type or break_type_get(code=BreakKind.WELL_BEING)
    with transaction.atomic():
        pending = (
            Break.objects.select_for_update(of=("self",))
            .select_related("agent", "break_type")
            .filter(agent=agent, status__in=sorted(PENDING_BREAK_STATUSES))
            .first()
        )
        if pending is None:
            locked = Break(
                agent=agent,
                break_type=break_type,
                status=BreakStatus.STARTED,
                minutes=minutes or break_type.default_minutes,
                reason=reason,
                requested_at=now,
                requested_by=actor,
            )
        else:
            locked = pending
            locked.status = BreakStatus.STARTED
        locked.approved_by, locked.decided_at = actor, now
        if locked.pk is None:
            if enforce_cap:
                _check_team_cap(agent)
            locked.started_at = now
            try:
                with transaction.atomic():
                    locked.save()
            except IntegrityError:
                raise DomainError(
                    _("%(name)s is on break already.") % {"name": agent.name}, code="break_running"
                ) from None
            agent_set_status(agent=agent, status=AgentStatus.ON_BREAK, actor=actor, reason=f"break: {break_type}")
            BreakDueNotice.objects.filter(agent=agent, taken__isnull=True).update(taken=locked)
            supervisor_action_log(
                kind=SupervisorActionKind.BREAK_STARTED,
                agent=agent,
                actor=actor,
                object_id=locked.pk,
                detail=f"sent now: {break_type} {locked.minutes} min" + (f": {reason}" if reason else ""),
            )
            _announce(break_started, agent, brk=locked)
        else:
            _start(locked, actor=actor, enforce_cap=enforce_cap, now=now)
    return locked


def break_end(*, brk: Break, actor: AbstractBaseUser | None) -> Break:
    """End a running break: the agent is available again (offline if deactivated meanwhile)."""
    with transaction.atomic():
        locked = _lock(brk)
        _move(locked, BreakStatus.ENDED)
        locked.ended_at, locked.ended_by = timezone.now(), actor
        locked.save(update_fields=["status", "ended_at", "ended_by"])
        agent = Agent.objects.select_for_update().get(pk=locked.agent_id)
        if agent.status == AgentStatus.ON_BREAK:
            back = AgentStatus.AVAILABLE if agent.is_active else AgentStatus.OFFLINE
            agent_set_status(agent=agent, status=back, actor=actor, reason="break ended")
        supervisor_action_log(
            kind=SupervisorActionKind.BREAK_ENDED, agent=agent, actor=actor, object_id=locked.pk, detail=""
        )
        _announce(break_ended, agent, brk=locked)
    return _sync(brk, locked)


def supervisor_set_status(
    *, agent: Agent, status: str, actor: AbstractBaseUser | None, reason: str = "set by supervisor"
) -> Agent:
    """A supervisor changes an agent's presence: the status log has it, and so does the supervision log."""
    if status == AgentStatus.ON_BREAK:
        raise DomainError(_("Send the agent on a break instead: a break has a type and a length."))
    with transaction.atomic():
        previous = agent.status
        running = Break.objects.filter(agent=agent, status=BreakStatus.STARTED).first()
        if running is not None:  # leaving a break ends it, so no break is left "started" behind
            break_end(brk=running, actor=actor)
        changed = agent_set_status(agent=agent, status=status, actor=actor, reason=reason)
        supervisor_action_log(
            kind=SupervisorActionKind.STATUS_SET, agent=agent, actor=actor, detail=f"{previous} → {status}"
        )
    return changed
