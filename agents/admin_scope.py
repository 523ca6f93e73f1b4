"""Who sees which rows in the admin: the viewer's scope (``agents.access``) applied to every page of it.

Three kinds of model admin, one mixin each (docs/security.md has the whole matrix):
- ``AdministratorsOnly``: API keys, webhooks, dead letters, users, groups… Absent from everybody else's admin
  (no index entry, 403 on every URL) whatever permissions they were granted, so a permission added by hand
  later cannot reopen the way up.
- ``AdministratorsChange``: the center's shared configuration (SLA policies, calendars, skills…): whoever may
  view it reads it; only administrators add, change and delete it, since a change reaches every team.
- ``TeamScoped``: team-bound rows (agents, queues, interactions, breaks…). A supervisor's lists, object pages,
  actions, relation filters and form choices hold only their teams' rows; anybody else's is "not found" (404).
  With ``shared_team``, rows of no team are the whole center's: everyone in the admin sees them, only
  administrators change them (the API's rule for queues).
"""

from django.contrib.admin import RelatedOnlyFieldListFilter
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Q, QuerySet
from django.http import Http404

from config.roles import is_administrator

from .access import viewer_from_request


def supervised_team_ids(request) -> set[int] | None:
    """None: every team (administrators); otherwise the ids of the teams the user supervises (maybe none).
    Decided by ``agents.access``, like every other scope."""
    return viewer_from_request(request).admin_team_ids


def scope(request, queryset: QuerySet, *team_paths: str, shared: bool = False) -> QuerySet:
    """``queryset`` narrowed to rows whose team (any of ``team_paths``) the user supervises; with ``shared``,
    rows of no team too."""
    team_ids = supervised_team_ids(request)
    if team_ids is None:
        return queryset
    condition = Q(pk__in=[])
    for path in team_paths:
        condition |= Q(**{f"{path}__in": team_ids})
        if shared:
            condition |= Q(**{f"{path}__isnull": True})
    return queryset.filter(condition)


class AdministratorsOnly:
    """Only administrators (``config.roles``) reach this model admin, whatever permissions anyone else holds."""

    def has_module_permission(self, request) -> bool:
        return is_administrator(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return is_administrator(request.user) and super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args) -> bool:
        return is_administrator(request.user) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None) -> bool:
        return is_administrator(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return is_administrator(request.user) and super().has_delete_permission(request, obj)


class AdministratorsChange:
    """Visible to whoever may view it; added, changed and deleted only by administrators."""

    def has_add_permission(self, request, *args) -> bool:
        return is_administrator(request.user) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None) -> bool:
        return is_administrator(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return is_administrator(request.user) and super().has_delete_permission(request, obj)


def choices_for(request, site, model, *, writable: bool = False) -> QuerySet:
    """The rows of ``model`` a form may offer the user: what its own model admin would show them (``writable``:
    only what they may change, i.e. no shared row), nothing of an administrators-only model for anyone else."""
    queryset = model._default_manager.all()
    model_admin = site._registry.get(model)
    if isinstance(model_admin, TeamScoped):
        return model_admin.scoped(request, queryset, writable=writable)
    if isinstance(model_admin, AdministratorsOnly) and not is_administrator(request.user):
        return queryset.none()
    return queryset


class TeamScoped:
    """Narrows a model admin to the supervisor's teams (``team_path``: the lookup(s) leading to the team id)."""

    team_path: str | tuple[str, ...] = "agent__team_id"
    shared_team = False
    # The relation that places a new row in a team (its team, queue or interaction): for anyone but an
    # administrator it is required and offers only what they may change, so nothing is made outside their teams.
    owner_field: str | None = None

    def scoped(self, request, queryset: QuerySet, *, writable: bool = False) -> QuerySet:
        paths = (self.team_path,) if isinstance(self.team_path, str) else self.team_path
        return scope(request, queryset, *paths, shared=self.shared_team and not writable)

    def get_queryset(self, request):
        return self.scoped(request, super().get_queryset(request))

    def get_object(self, request, object_id, from_field=None):
        # Another team's row answers as a missing one does, with a plain 404 (Django's own answer to a missing
        # id, a redirect to the index, is kept for administrators).
        obj = super().get_object(request, object_id, from_field)
        if obj is None and supervised_team_ids(request) is not None:
            raise Http404(f"No {self.opts.verbose_name} with this id among your teams' rows.")
        return obj

    def in_scope(self, request, obj, *, writable: bool = False) -> bool:
        if obj is None or supervised_team_ids(request) is None:
            return True
        cache = request.__dict__.setdefault("_switchboard_admin_scope", {})
        key = (self.model, obj.pk, writable)
        if key not in cache:
            rows = self.model._default_manager.filter(pk=obj.pk)
            cache[key] = self.scoped(request, rows, writable=writable).exists()
        return cache[key]

    def has_view_permission(self, request, obj=None) -> bool:
        return super().has_view_permission(request, obj) and self.in_scope(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and self.in_scope(request, obj, writable=True)

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and self.in_scope(request, obj, writable=True)

    def response_action(self, request, queryset, *args, **kwargs):
        # Every action changes rows: it gets only the selected rows the user may change (no shared one).
        return super().response_action(request, self.scoped(request, queryset, writable=True), *args, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            writable = db_field.name == self.owner_field
            kwargs["queryset"] = choices_for(request, self.admin_site, db_field.related_model, writable=writable)
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and db_field.name == self.owner_field and supervised_team_ids(request) is not None:
            field.required = True
        return field

    def get_list_filter(self, request):
        # A relation filter lists every related row (every team, queue, agent); for anyone narrowed to some
        # teams it offers only the values found in the rows they see.
        filters = super().get_list_filter(request)
        if supervised_team_ids(request) is None:
            return filters
        return [(f, RelatedOnlyFieldListFilter) if self._is_relation(f) else f for f in filters]

    def _is_relation(self, list_filter) -> bool:
        if not isinstance(list_filter, str):
            return False
        try:
            return get_fields_from_path(self.model, list_filter)[-1].is_relation
        except FieldDoesNotExist:
            return False


def restrict_to_administrators(site, models) -> None:
    """Re-register models whose admin lives elsewhere (Django's users and groups, axes' logs) for administrators
    only, keeping each one's own model admin."""
    for model in models:
        if model not in site._registry:
            continue
        original = type(site._registry[model])
        site.unregister(model)
        site.register(model, type(original.__name__, (AdministratorsOnly, original), {}))
