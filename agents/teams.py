"""What changes teams and skills, the center's organisation; what changes an agent is in ``agents.services``.

Names of teams and skills are unique regardless of case (a database constraint says so too). Field errors are
raised as ``ValidationError({"field": [...]})``; a team or skill still in use is refused with ``DomainError``.
"""

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models.deletion import ProtectedError
from django.utils.translation import gettext as _

from config.errors import DomainError

from .models import Skill, Team
from .services import UNSET, Unset, clean_name


def _require_unique_name(model: type[models.Model], name: str, *, exclude_pk: int | None = None) -> None:
    """Names of teams and skills are unique regardless of case (a database constraint says so too)."""
    clash = model._default_manager.filter(name__iexact=name)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError(
            {
                "name": [
                    _("A %(verbose_name)s named '%(name)s' already exists.")
                    % {"verbose_name": model._meta.verbose_name, "name": name}
                ]
            }
        )


def _save_unique(instance: models.Model, *, update_fields: list[str] | None = None) -> None:
    """Save, turning a unique-name race lost to a concurrent writer into the same field error as the check."""
    try:
        with transaction.atomic():
            instance.save(update_fields=update_fields)
    except IntegrityError:
        model = type(instance)
        raise ValidationError(
            {
                "name": [
                    _("A %(verbose_name)s named '%(name)s' already exists.")
                    % {"verbose_name": model._meta.verbose_name, "name": instance.name}
                ]
            }
        ) from None


# --- skills --------------------------------------------------------------------------------------


def skill_create(*, name: str, description: str = "") -> Skill:
    """Create a skill; names are unique regardless of case."""
    name = clean_name(name, model=Skill)
    _require_unique_name(Skill, name)
    skill = Skill(name=name, description=(description or "").strip())
    _save_unique(skill)
    return skill


def skill_update(*, skill: Skill, name: str | Unset = UNSET, description: str | Unset = UNSET) -> Skill:
    changes: dict[str, str] = {}
    if name is not UNSET:
        changes["name"] = clean_name(name, model=Skill)
        _require_unique_name(Skill, changes["name"], exclude_pk=skill.pk)
    if description is not UNSET:
        changes["description"] = (description or "").strip()
    if changes:
        for field, value in changes.items():
            setattr(skill, field, value)
        _save_unique(skill, update_fields=list(changes))
    return skill


def skill_delete(*, skill: Skill) -> None:
    """Delete a skill nobody uses; a skill that queues require or agents have is refused (DomainError)."""
    try:
        with transaction.atomic():
            skill.delete()
    except ProtectedError as exc:
        raise DomainError(
            _("Skill '%(skill)s' is in use by %(describe)s; remove it from them first.")
            % {"skill": skill, "describe": _describe(exc.protected_objects)},
            code="in_use",
        ) from None


def _describe(objects: Iterable[models.Model]) -> str:
    """'2 agent skills, 1 queue skill': what still points at an object, by model, without naming other apps."""
    counts: dict[type[models.Model], int] = {}
    for obj in objects:
        counts[type(obj)] = counts.get(type(obj), 0) + 1
    return ", ".join(
        f"{n} {model._meta.verbose_name if n == 1 else model._meta.verbose_name_plural}" for model, n in counts.items()
    )


# --- teams ---------------------------------------------------------------------------------------


def team_create(*, name: str, description: str = "", supervisors: Iterable[AbstractBaseUser] = ()) -> Team:
    """Create a team; names are unique regardless of case. Supervisors see the team's agents and work."""
    name = clean_name(name, model=Team)
    _require_unique_name(Team, name)
    with transaction.atomic():
        team = Team(name=name, description=(description or "").strip())
        _save_unique(team)
        team.supervisors.set(supervisors)
    return team


def team_update(
    *,
    team: Team,
    name: str | Unset = UNSET,
    description: str | Unset = UNSET,
    supervisors: Iterable[AbstractBaseUser] | Unset = UNSET,
) -> Team:
    """Change a team; ``supervisors`` replaces the list."""
    changes: dict[str, str] = {}
    if name is not UNSET:
        changes["name"] = clean_name(name, model=Team)
        _require_unique_name(Team, changes["name"], exclude_pk=team.pk)
    if description is not UNSET:
        changes["description"] = (description or "").strip()
    with transaction.atomic():
        if changes:
            for field, value in changes.items():
                setattr(team, field, value)
            _save_unique(team, update_fields=list(changes))
        if supervisors is not UNSET:
            team.supervisors.set(supervisors)
    return team


def team_add_supervisor(*, team: Team, user: AbstractBaseUser) -> Team:
    """Let ``user`` supervise ``team`` (adding twice is harmless)."""
    team.supervisors.add(user)
    return team


def team_remove_supervisor(*, team: Team, user: AbstractBaseUser) -> Team:
    team.supervisors.remove(user)
    return team


def team_delete(*, team: Team) -> None:
    """Delete an empty team. A team that still has agents, queues or API keys is refused (DomainError).

    Deleting would otherwise silently orphan agents and queues and revoke the team's API keys (they cascade),
    so the caller moves them first. Related objects are found through the model's relations, so this app
    needs to know nothing of the apps that point at teams.
    """
    in_use = []
    for relation in Team._meta.related_objects:
        if not relation.one_to_many:
            continue
        count = getattr(team, relation.get_accessor_name()).count()
        if count:
            model_meta = relation.related_model._meta
            label = model_meta.verbose_name if count == 1 else model_meta.verbose_name_plural
            in_use.append(f"{count} {label}")
    if in_use:
        raise DomainError(
            _("Team '%(team)s' still has %(join)s; move them to another team first.")
            % {"team": team, "join": ", ".join(in_use)},
            code="in_use",
        )
    team.delete()
