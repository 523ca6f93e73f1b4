"""Admin for agents, teams, skills and the status log. Status changes go through ``agent_set_status``.

The supervision cockpit (board, breaks, training, audit log) is in ``admin_supervision``; who sees what is
decided in ``admin_scope``. Users and groups (Django's own admin) and axes' login logs are administrators' only:
whoever changes them could make themself an administrator.
"""

import axes.admin  # noqa: F401  (registers its model admins first)
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin  # noqa: F401  (registers them first)
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from config.errors import DomainError
from config.roles import ADMINISTRATOR_GROUP

from . import admin_audit  # noqa: F401  (registers the audit log)
from .accounts import user_email_changed
from .admin_scope import AdministratorsChange, TeamScoped, restrict_to_administrators, supervised_team_ids
from .admin_supervision import assign_course_action, board_urls, send_on_break_action
from .breaks import supervisor_set_status
from .choices import AgentStatus
from .models import Agent, AgentSkill, AgentStatusLog, Skill, Team
from .services import agent_update
from .validators import validate_capacity

# Profile fields the admin edits through agent_update (so deactivation also logs the agent out).
SERVICE_FIELDS = ("name", "team", "capacity", "is_active")


class AgentSkillInline(admin.TabularInline):
    model = AgentSkill
    extra = 0
    autocomplete_fields = ["skill"]


class AgentAdminForm(forms.ModelForm):
    class Meta:
        model = Agent
        fields = ["user", "name", "team", "capacity", "is_active"]
        help_texts = {"capacity": 'Interactions handled at once per channel, e.g. {"voice": 1, "chat": 3, "email": 5}.'}

    def clean_capacity(self):
        try:
            return validate_capacity(self.cleaned_data.get("capacity"))
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from None


def users_free_for_an_agent():
    """Who a supervisor may make an agent of their team: active plain users without a profile or a role."""
    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=False, is_superuser=False, agent__isnull=True)
        .filter(supervised_teams__isnull=True)
        .exclude(groups__name=ADMINISTRATOR_GROUP)
        .order_by("username")
    )


@admin.register(Agent)
class AgentAdmin(TeamScoped, admin.ModelAdmin):
    """Supervisors manage their teams' agents (lists, forms and actions alike) and keep them in their teams."""

    team_path = "team_id"
    owner_field = "team"
    form = AgentAdminForm
    list_display = ["name", "user", "team", "status", "status_changed_at", "capacity_summary", "is_active"]
    list_filter = ["team", "status", "is_active", "skills"]
    list_select_related = ["user", "team"]
    search_fields = ["name", "user__username", "user__email"]
    autocomplete_fields = ["user", "team"]
    readonly_fields = ["status", "status_changed_at", "created_at", "updated_at"]
    inlines = [AgentSkillInline]
    actions = ["set_available", "set_offline", send_on_break_action, assign_course_action]
    change_list_template = "admin/agents/agent_change_list.html"

    def get_autocomplete_fields(self, request):
        # the user search is the users' admin, administrators' only; supervisors choose from a short list
        fields = super().get_autocomplete_fields(request)
        return fields if supervised_team_ids(request) is None else [f for f in fields if f != "user"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user" and supervised_team_ids(request) is not None:
            kwargs["queryset"] = users_free_for_an_agent()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_urls(self):
        return [*board_urls(self), *super().get_urls()]

    def get_readonly_fields(self, request, obj=None):
        # The profile belongs to one user for good; a new user means a new agent.
        return [*self.readonly_fields, "user"] if obj is not None else self.readonly_fields

    @admin.display(description=_("capacity"))
    def capacity_summary(self, agent: Agent) -> str:
        return ", ".join(f"{channel} {amount}" for channel, amount in sorted(agent.capacity.items())) or "—"

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        changes = {field: form.cleaned_data[field] for field in form.changed_data if field in SERVICE_FIELDS}
        if changes:
            agent_update(agent=obj, actor=request.user, **changes)

    def _set_status(self, request, queryset, status: str) -> None:
        changed = 0
        for agent in queryset:
            try:
                supervisor_set_status(agent=agent, status=status, actor=request.user, reason="set in admin")
            except DomainError as exc:
                self.message_user(request, f"{agent}: {exc}", messages.ERROR)
            else:
                changed += 1
        if changed:
            label = AgentStatus(status).label.lower()
            text = ngettext("%(count)d agent now %(status)s.", "%(count)d agents now %(status)s.", changed)
            self.message_user(request, text % {"count": changed, "status": label}, messages.SUCCESS)

    @admin.action(description=_("Set available"), permissions=["change"])
    def set_available(self, request, queryset):
        self._set_status(request, queryset, AgentStatus.AVAILABLE)

    @admin.action(description=_("Set offline"), permissions=["change"])
    def set_offline(self, request, queryset):
        self._set_status(request, queryset, AgentStatus.OFFLINE)


@admin.register(Team)
class TeamAdmin(AdministratorsChange, TeamScoped, admin.ModelAdmin):
    """Supervisors read their own teams; only administrators make teams and name their supervisors."""

    team_path = "id"
    list_display = ["name", "agent_count", "created_at"]
    ordering = ["name"]
    search_fields = ["name"]
    filter_horizontal = ["supervisors"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(agent_count=Count("agents", distinct=True))

    @admin.display(description=_("agents"), ordering="agent_count")
    def agent_count(self, team: Team) -> int:
        return team.agent_count


@admin.register(Skill)
class SkillAdmin(AdministratorsChange, admin.ModelAdmin):
    """The center's shared vocabulary (queues of every team require skills): administrators change it."""

    list_display = ["name", "agent_count", "created_at"]
    ordering = ["name"]
    search_fields = ["name", "description"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(agent_count=Count("agent_skills", distinct=True))

    @admin.display(description=_("agents"), ordering="agent_count")
    def agent_count(self, skill: Skill) -> int:
        return skill.agent_count


@admin.register(AgentStatusLog)
class AgentStatusLogAdmin(TeamScoped, admin.ModelAdmin):
    """Evidence for occupancy and time in state: readable, never editable (the database refuses updates too)."""

    list_display = ["changed_at", "agent", "previous_status", "status", "actor", "reason"]
    list_filter = ["status", "agent__team"]
    list_select_related = ["agent", "actor"]
    search_fields = ["agent__name", "agent__user__username"]
    date_hierarchy = "changed_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EmailChangeNotice:
    """On Django's user admin: a changed e-mail address is told to the old one (``agents.accounts``)."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "email" in form.changed_data:
            user_email_changed(user=obj, old_email=form.initial.get("email") or "")


restrict_to_administrators(admin.site, [get_user_model(), Group, AccessAttempt, AccessFailureLog, AccessLog])
_user_admin = type(admin.site._registry[get_user_model()])
admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), type(_user_admin.__name__, (EmailChangeNotice, _user_admin), {}))
