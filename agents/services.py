"""What changes agents: their profiles, the skills they hold, their presence status. Views, admin and other apps
call these; nothing else writes. Teams and skills themselves: ``agents.teams``.

Field errors are raised as Django ``ValidationError({"field": [...]})`` (the API answers 400 with the field
named); a well-formed request that the current state forbids raises ``config.errors.DomainError`` (409).
"""

from collections.abc import Iterable
from enum import Enum

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext

from config.errors import IllegalTransition

from .accounts import user_email_changed
from .choices import AGENT_STATUS_TRANSITIONS, AgentStatus
from .models import MAX_SKILL_LEVEL, MIN_SKILL_LEVEL, Agent, AgentSkill, AgentStatusLog, Skill, Team
from .signals import agent_status_changed
from .status_rules import status_change_check
from .validators import validate_capacity

AGENT_GROUP_NAME = "Agent"
NAME_MAX_LENGTH = {Agent: 200, Team: 100, Skill: 100}
REASON_MAX_LENGTH = AgentStatusLog._meta.get_field("reason").max_length


class Unset(Enum):
    UNSET = "unset"


# "Leave this field as it is" in update services, so that None can still mean "clear it" (e.g. team=None).
UNSET = Unset.UNSET

SkillLevels = Iterable[tuple[Skill, int]]


# --- helpers -------------------------------------------------------------------------------------


def clean_name(name: str, *, model: type[models.Model], field: str = "name") -> str:
    """``name`` stripped; blank, or longer than ``model`` allows, is a field error (agents, teams, skills)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({field: [gettext("This field may not be blank.")]})
    limit = NAME_MAX_LENGTH[model]
    if len(name) > limit:
        raise ValidationError(
            {field: [gettext("Ensure this field has no more than %(limit)s characters.") % {"limit": limit}]}
        )
    return name


def _clean_capacity(capacity) -> dict[str, int]:
    try:
        return validate_capacity(capacity)
    except ValidationError as exc:
        raise ValidationError({"capacity": exc.messages}) from None


def _clean_email(email: str) -> str:
    email = (email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError({"email": [gettext("Enter a valid email address.")]}) from None
    return get_user_model().objects.normalize_email(email)


def _clean_skills(skills: SkillLevels) -> dict[int, tuple[Skill, int]]:
    """Skill levels keyed by skill id; a skill listed twice or a level outside 1–5 is a field error."""
    cleaned: dict[int, tuple[Skill, int]] = {}
    errors = []
    for skill, level in skills:
        if isinstance(level, bool) or not isinstance(level, int) or not MIN_SKILL_LEVEL <= level <= MAX_SKILL_LEVEL:
            errors.append(f"Level of '{skill}' must be a whole number from {MIN_SKILL_LEVEL} to {MAX_SKILL_LEVEL}.")
        elif skill.pk in cleaned:
            errors.append(f"Skill '{skill}' is listed more than once.")
        else:
            cleaned[skill.pk] = (skill, level)
    if errors:
        raise ValidationError({"skills": errors})
    return cleaned


def _lock_agent(agent: Agent) -> Agent:
    return Agent.objects.select_for_update().select_related("user").get(pk=agent.pk)


# --- agents --------------------------------------------------------------------------------------


def agent_create(
    *,
    username: str,
    name: str,
    email: str = "",
    team: Team | None = None,
    capacity: dict[str, int] | None = None,
    skills: SkillLevels = (),
    actor: AbstractBaseUser | None = None,
) -> Agent:
    """Create a user and their agent profile, offline, with the given skills.

    The user gets no usable password: nobody sends passwords through the API. They set one through the
    password-reset flow, or an administrator sets it. The user joins the "Agent" group when it exists, so
    the console's permissions follow from one place. ``actor`` (who asked) is taken now so callers need not
    change when the events layer records it; nothing stores it yet.
    """
    user_model = get_user_model()
    username = (username or "").strip()
    errors: dict[str, list[str]] = {}
    if not username:
        errors["username"] = ["This field may not be blank."]
    else:
        try:
            user_model.username_validator(username)
        except ValidationError as exc:
            errors["username"] = exc.messages
        limit = user_model._meta.get_field("username").max_length
        if len(username) > limit:
            errors["username"] = [f"Ensure this field has no more than {limit} characters."]
    if errors:
        raise ValidationError(errors)
    name = clean_name(name, model=Agent)
    email = _clean_email(email)
    capacity = _clean_capacity(capacity if capacity is not None else {})
    cleaned_skills = _clean_skills(skills)

    # Usernames differing only by case would be two logins that people cannot tell apart.
    if user_model.objects.filter(username__iexact=username).exists():
        raise ValidationError(
            {"username": [gettext("The username '%(username)s' is already taken.") % {"username": username}]}
        )

    with transaction.atomic():
        try:
            with transaction.atomic():
                user = user_model.objects.create_user(username=username, email=email, password=None)
        except IntegrityError:  # a concurrent create won the race for this username
            raise ValidationError(
                {"username": [gettext("The username '%(username)s' is already taken.") % {"username": username}]}
            ) from None
        group = Group.objects.filter(name=AGENT_GROUP_NAME).first()
        if group is not None:
            user.groups.add(group)
        agent = Agent.objects.create(user=user, name=name, team=team, capacity=capacity)
        AgentSkill.objects.bulk_create(
            AgentSkill(agent=agent, skill=skill, level=level) for skill, level in cleaned_skills.values()
        )
    return agent


def agent_update(
    *,
    agent: Agent,
    name: str | Unset = UNSET,
    email: str | Unset = UNSET,
    team: Team | None | Unset = UNSET,
    capacity: dict[str, int] | Unset = UNSET,
    is_active: bool | Unset = UNSET,
    skills: SkillLevels | Unset = UNSET,
    actor: AbstractBaseUser | None = None,
) -> Agent:
    """Change an agent's profile; only the arguments given are touched.

    ``skills`` replaces the agent's skills (see ``agent_set_skills``), in the same transaction. Deactivating
    an agent who is logged in also takes them offline (logged, with the actor), so routing and the wallboard
    never count an inactive agent as present.
    """
    fields: dict[str, object] = {}
    if name is not UNSET:
        fields["name"] = clean_name(name, model=Agent)
    if capacity is not UNSET:
        fields["capacity"] = _clean_capacity(capacity)
    if team is not UNSET:
        fields["team_id"] = team.pk if team is not None else None  # compared by id: no query for the old team
    if is_active is not UNSET:
        fields["is_active"] = bool(is_active)
    new_email = _clean_email(email) if email is not UNSET else None
    cleaned_skills = _clean_skills(skills) if skills is not UNSET else None

    with transaction.atomic():
        locked = _lock_agent(agent)
        if fields.get("is_active") is False and locked.status != AgentStatus.OFFLINE:
            agent_set_status(agent=locked, status=AgentStatus.OFFLINE, actor=actor, reason="deactivated")
        changed = [field for field, value in fields.items() if getattr(locked, field) != value]
        for field in changed:
            setattr(locked, field, fields[field])
        if changed:
            locked.save(update_fields=[*changed, "updated_at"])
        if new_email is not None and locked.user.email != new_email:
            old_email, locked.user.email = locked.user.email, new_email
            locked.user.save(update_fields=["email"])
            user_email_changed(user=locked.user, old_email=old_email)
        if cleaned_skills is not None:
            _replace_skills(agent=locked, skills=cleaned_skills)
    return locked


def _replace_skills(*, agent: Agent, skills: dict[int, tuple[Skill, int]]) -> None:
    AgentSkill.objects.filter(agent=agent).exclude(skill_id__in=skills.keys()).delete()
    AgentSkill.objects.bulk_create(
        [AgentSkill(agent=agent, skill=skill, level=level) for skill, level in skills.values()],
        update_conflicts=True,
        unique_fields=["agent", "skill"],
        update_fields=["level"],
    )


def agent_set_skills(*, agent: Agent, skills: SkillLevels) -> Agent:
    """Replace the agent's skills with ``skills``, a list of ``(skill, level)``; an empty list removes all."""
    cleaned = _clean_skills(skills)
    with transaction.atomic():
        locked = _lock_agent(agent)
        _replace_skills(agent=locked, skills=cleaned)
    return locked


def agent_skill_set(*, agent: Agent, skill: Skill, level: int) -> AgentSkill:
    """Give the agent ``skill`` at ``level`` (1–5), or change the level they have."""
    _clean_skills([(skill, level)])
    agent_skill, _ = AgentSkill.objects.update_or_create(agent=agent, skill=skill, defaults={"level": level})
    return agent_skill


def agent_set_status(*, agent: Agent, status: str, actor: AbstractBaseUser | None = None, reason: str = "") -> Agent:
    """Move an agent to another presence status and log it; the same status again changes nothing.

    A person ``actor`` may set only what ``agents.status_rules`` allows (``NotAllowed``, 403): an agent sets
    themselves available, not ready or offline; ``on_break`` under a team's break policy comes from a break.
    The agent row is locked, so two concurrent changes queue up and each log row's ``previous_status`` is
    the status the row before it set. Illegal moves (see ``AGENT_STATUS_TRANSITIONS``) raise
    ``IllegalTransition``; an inactive agent cannot become available. After commit, ``agent_status_changed``
    is sent so routing and the events layer can react without this app knowing them.

    Returns the locked, updated agent; ``agent`` itself is refreshed too so callers holding it see the change.
    """
    if status not in AgentStatus.values:
        raise ValidationError(
            {
                "status": [
                    gettext("'%(status)s' is not a status; statuses are %(join)s.")
                    % {"status": status, "join": ", ".join(AgentStatus.values)}
                ]
            }
        )
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(
            {
                "reason": [
                    gettext("Ensure this field has no more than %(REASON_MAX_LENGTH)s characters.")
                    % {"REASON_MAX_LENGTH": REASON_MAX_LENGTH}
                ]
            }
        )

    with transaction.atomic():
        locked = Agent.objects.select_for_update().get(pk=agent.pk)
        previous = locked.status
        if previous == status:
            return locked
        status_change_check(agent=locked, status=status, actor=actor)
        allowed = AGENT_STATUS_TRANSITIONS[previous]
        if status not in allowed:
            raise IllegalTransition(
                gettext("Cannot go from %(previous)s to %(status)s; allowed: %(join)s.")
                % {"previous": previous, "status": status, "join": ", ".join(sorted(allowed))}
            )
        if status == AgentStatus.AVAILABLE and not locked.is_active:
            raise IllegalTransition(
                gettext("Agent '%(name)s' is inactive and cannot become available.") % {"name": locked.name}
            )
        now = timezone.now()
        locked.status, locked.status_changed_at = status, now
        locked.save(update_fields=["status", "status_changed_at", "updated_at"])
        AgentStatusLog.objects.create(
            agent=locked, previous_status=previous, status=status, changed_at=now, actor=actor, reason=reason
        )
        # send_robust: the change is committed by then; a failing listener must not turn it into an error
        # that makes the client retry a change that already happened (failures are logged by Django).
        transaction.on_commit(
            lambda: agent_status_changed.send_robust(sender=Agent, agent=locked, previous=previous, status=status)
        )
    agent.status, agent.status_changed_at, agent.updated_at = locked.status, locked.status_changed_at, locked.updated_at
    return locked
