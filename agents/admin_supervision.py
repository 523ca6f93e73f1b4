"""The supervisor's cockpit in the admin: live agent board, breaks, training, policies, and the audit log.

Who sees what: administrators see every agent; a supervisor only agents of the teams they supervise, in every
list, form, action and board button (``agents.admin_scope``): objects outside them are "not found" in forms
and refused (403) on the board. Courses and break types are the center's: supervisors read them, administrators
change them. Every action goes through a service, which writes ``SupervisorAction`` with who did it (our audit
log: unlike Django's LogEntry it also records what the API and the beat tasks do).
"""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, ngettext_lazy

from config.admin_tools import error_text
from config.errors import DomainError

from .admin_scope import AdministratorsChange, TeamScoped, scope
from .breaks import (
    break_approve,
    break_deny,
    break_end,
    break_send_now,
    break_start,
    supervisor_set_status,
)
from .choices import PENDING_BREAK_STATUSES, AgentStatus, BreakStatus, TrainingStatus
from .models import (
    Agent,
    Break,
    BreakDueNotice,
    BreakPolicy,
    BreakType,
    SupervisorAction,
    TrainingCourse,
    TrainingRecord,
)
from .selectors import EXPIRING_DAYS, agent_board
from .training import training_assign, training_record_result


def visible_agents(request) -> QuerySet[Agent]:
    return scope(request, Agent.objects.select_related("team", "user"), "team_id")


BREAKS_APPROVED = ngettext_lazy("%(count)d break approved.", "%(count)d breaks approved.", "count")
BREAKS_DENIED = ngettext_lazy("%(count)d break denied.", "%(count)d breaks denied.", "count")
BREAKS_STARTED = ngettext_lazy("%(count)d break started.", "%(count)d breaks started.", "count")
BREAKS_ENDED = ngettext_lazy("%(count)d break ended.", "%(count)d breaks ended.", "count")
AGENTS_SENT_ON_BREAK = ngettext_lazy("%(count)d agent sent on break.", "%(count)d agents sent on break.", "count")


class TeamScopedAdmin(TeamScoped, admin.ModelAdmin):
    """Lists, forms and actions narrowed to the supervisor's teams (``team_path`` leads to the team id)."""

    def run_each(self, request, objects, action, done) -> None:
        """Apply a service to each object; refusals become error messages, the rest ``done`` % {"count": n}."""
        count = 0
        for obj in objects:
            try:
                action(obj)
            except (DomainError, ValidationError) as exc:
                self.message_user(request, f"{obj}: {error_text(exc)}", messages.ERROR)
            else:
                count += 1
        if count:
            self.message_user(request, done % {"count": count}, messages.SUCCESS)


# --- training ------------------------------------------------------------------------------------


@admin.register(TrainingCourse)
class TrainingCourseAdmin(AdministratorsChange, admin.ModelAdmin):
    list_display = ["title", "skill", "validity_days", "pass_score", "is_active"]
    list_filter = ["is_active", "skill"]
    search_fields = ["title"]
    autocomplete_fields = ["skill"]


class TrainingAttentionFilter(admin.SimpleListFilter):
    title = "needs attention"
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [
            ("overdue", "Overdue"),
            ("expiring", f"Expiring in {EXPIRING_DAYS} days"),
            ("expired", "Expired"),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "overdue":
            return queryset.filter(status__in=[TrainingStatus.ASSIGNED, TrainingStatus.IN_PROGRESS], due_at__lt=now)
        if self.value() == "expiring":
            return queryset.filter(
                status=TrainingStatus.PASSED, expires_at__gt=now, expires_at__lte=now + timedelta(days=EXPIRING_DAYS)
            )
        if self.value() == "expired":
            return queryset.filter(
                Q(status=TrainingStatus.EXPIRED) | Q(status=TrainingStatus.PASSED, expires_at__lte=now)
            )
        return queryset


class TrainingResultForm(forms.ModelForm):
    class Meta:
        model = TrainingRecord
        fields = ["score", "completed_at"]
        help_texts = {"score": "0–100; saving records the result (passed at the course's pass score)."}


@admin.register(TrainingRecord)
class TrainingRecordAdmin(TeamScopedAdmin):
    """Records are made by assigning a course (the agent list's action); results are recorded here."""

    form = TrainingResultForm
    list_display = ["agent", "course", "status", "score", "due_at", "completed_at", "expires_at"]
    list_filter = [TrainingAttentionFilter, "status", "course", "agent__team"]
    list_select_related = ["agent", "course"]
    search_fields = ["agent__name", "course__title"]
    readonly_fields = ["agent", "course", "status", "assigned_at", "assigned_by", "due_at", "expires_at"]
    fields = [
        "agent",
        "course",
        "status",
        "assigned_at",
        "assigned_by",
        "due_at",
        "score",
        "completed_at",
        "expires_at",
    ]

    def has_add_permission(self, request):
        return False

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status not in (TrainingStatus.ASSIGNED, TrainingStatus.IN_PROGRESS):
            return [*self.readonly_fields, "score", "completed_at"]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if "score" not in form.changed_data or obj.score is None:
            return
        try:
            training_record_result(
                record=obj, score=obj.score, actor=request.user, completed_at=form.cleaned_data.get("completed_at")
            )
        except (DomainError, ValidationError) as exc:
            self.message_user(request, error_text(exc), messages.ERROR)


# --- breaks --------------------------------------------------------------------------------------


@admin.register(BreakType)
class BreakTypeAdmin(AdministratorsChange, admin.ModelAdmin):
    list_display = ["name", "code", "default_minutes", "is_active"]
    readonly_fields = ["code"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BreakPolicy)
class BreakPolicyAdmin(TeamScopedAdmin):
    team_path = "team_id"
    owner_field = "team"
    list_display = [
        "team",
        "well_being_minutes",
        "continuous_handling_minutes",
        "bad_outcome_streak",
        "max_on_break_share",
        "is_active",
    ]


@admin.register(Break)
class BreakAdmin(TeamScopedAdmin):
    """Breaks change only through the actions (each one a service that logs who did it)."""

    list_display = [
        "agent",
        "break_type",
        "status",
        "minutes",
        "requested_at",
        "scheduled_for",
        "started_at",
        "ended_at",
    ]
    list_filter = ["status", "break_type", "agent__team"]
    list_select_related = ["agent", "break_type"]
    search_fields = ["agent__name", "reason"]
    date_hierarchy = "requested_at"
    actions = ["approve", "deny", "start", "end"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    @admin.action(description=_("Approve selected breaks"), permissions=["change"])
    def approve(self, request, queryset):
        self.run_each(request, queryset, lambda b: break_approve(brk=b, actor=request.user), BREAKS_APPROVED)

    @admin.action(description=_("Deny selected breaks"), permissions=["change"])
    def deny(self, request, queryset):
        self.run_each(request, queryset, lambda b: break_deny(brk=b, actor=request.user), BREAKS_DENIED)

    @admin.action(description=_("Start selected breaks now"), permissions=["change"])
    def start(self, request, queryset):
        self.run_each(request, queryset, lambda b: break_start(brk=b, actor=request.user), BREAKS_STARTED)

    @admin.action(description=_("End selected breaks"), permissions=["change"])
    def end(self, request, queryset):
        self.run_each(request, queryset, lambda b: break_end(brk=b, actor=request.user), BREAKS_ENDED)


class ReadOnlyScopedAdmin(TeamScopedAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BreakDueNotice)
class BreakDueNoticeAdmin(ReadOnlyScopedAdmin):
    list_display = ["due_at", "agent", "reason", "minutes", "detail", "taken"]
    list_filter = ["reason", "agent__team"]
    list_select_related = ["agent"]


@admin.register(SupervisorAction)
class SupervisorActionAdmin(ReadOnlyScopedAdmin):
    list_display = ["at", "agent", "kind", "actor", "detail"]
    list_filter = ["kind", "agent__team"]
    list_select_related = ["agent", "actor"]
    search_fields = ["agent__name", "detail", "actor__username"]
    date_hierarchy = "at"


# --- actions and views added to the agent admin --------------------------------------------------


class AssignCourseForm(forms.Form):
    course = forms.ModelChoiceField(queryset=TrainingCourse.objects.filter(is_active=True))
    due_at = forms.SplitDateTimeField(required=False, widget=AdminSplitDateTime, help_text="complete by (optional)")


def assign_course_action(modeladmin, request, queryset):
    """Assign a course to the selected agents: an intermediate page asks which course and by when."""
    if "apply" in request.POST:
        form = AssignCourseForm(request.POST)
        if form.is_valid():
            try:
                result = training_assign(
                    course=form.cleaned_data["course"],
                    agents=list(queryset),
                    actor=request.user,
                    due_at=form.cleaned_data["due_at"],
                )
            except (DomainError, ValidationError) as exc:
                modeladmin.message_user(request, error_text(exc), messages.ERROR)
                return None
            count = len(result.created)
            text = ngettext(
                "“%(course)s” assigned to %(count)d agent.", "“%(course)s” assigned to %(count)d agents.", count
            ) % {"course": form.cleaned_data["course"], "count": count}
            if result.skipped:
                text += " " + _("Already assigned: %(names)s.") % {"names": ", ".join(a.name for a in result.skipped)}
            modeladmin.message_user(request, text, messages.SUCCESS)
            return None
    else:
        form = AssignCourseForm()
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": _("Assign a training course"),
        "form": form,
        "agents": queryset,
        "opts": modeladmin.model._meta,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/agents/assign_course.html", context)


assign_course_action.short_description = _("Assign a training course")
assign_course_action.allowed_permissions = ["change"]


def send_on_break_action(modeladmin, request, queryset):
    TeamScopedAdmin.run_each(
        modeladmin, request, queryset, lambda a: break_send_now(agent=a, actor=request.user), AGENTS_SENT_ON_BREAK
    )


send_on_break_action.short_description = _("Send on a well-being break now")
send_on_break_action.allowed_permissions = ["change"]


class BoardStatusForm(forms.Form):
    status = forms.ChoiceField(choices=[c for c in AgentStatus.choices if c[0] != AgentStatus.ON_BREAK])


BOARD_OPERATIONS = ("send_break", "end_break", "approve", "deny", "set_status")


def board_view(modeladmin, request):
    """The live agent board: status, time in it, continuous handling, breaks and occupancy today."""
    if not modeladmin.has_view_permission(request):
        raise PermissionDenied
    rows = agent_board(agents=modeladmin.get_queryset(request).filter(is_active=True).order_by("team__name", "name"))
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": _("Agent board"),
        "rows": rows,
        "statuses": BoardStatusForm.base_fields["status"].choices,
        "can_change": modeladmin.has_change_permission(request),
        "opts": modeladmin.model._meta,
    }
    return TemplateResponse(request, "admin/agents/agent_board.html", context)


def board_operation_view(modeladmin, request, agent_id: int):
    """One button of the board, for one agent of the supervisor's teams (anyone else's: 403)."""
    if request.method != "POST":
        return HttpResponseRedirect(reverse("admin:agents_agent_board"))
    agent = get_object_or_404(Agent, pk=agent_id)
    if not visible_agents(request).filter(pk=agent.pk).exists() or not modeladmin.has_change_permission(request):
        raise PermissionDenied
    operation = request.POST.get("op")
    actor = request.user
    try:
        if operation == "send_break":
            break_send_now(agent=agent, actor=actor)
        elif operation == "end_break":
            break_end(brk=get_object_or_404(Break, agent=agent, status=BreakStatus.STARTED), actor=actor)
        elif operation in ("approve", "deny"):
            pending = get_object_or_404(Break, agent=agent, status__in=sorted(PENDING_BREAK_STATUSES))
            (break_approve if operation == "approve" else break_deny)(brk=pending, actor=actor)
        elif operation == "set_status":
            form = BoardStatusForm(request.POST)
            if not form.is_valid():
                raise ValidationError(form.errors.get("status", [_("Choose a status.")]))
            supervisor_set_status(agent=agent, status=form.cleaned_data["status"], actor=actor)
        else:
            known = {"operations": ", ".join(BOARD_OPERATIONS)}
            raise ValidationError(_("Unknown operation; choose one of %(operations)s.") % known)
    except (DomainError, ValidationError) as exc:
        modeladmin.message_user(request, f"{agent}: {error_text(exc)}", messages.ERROR)
    else:
        modeladmin.message_user(request, _("%(agent)s: done.") % {"agent": agent}, messages.SUCCESS)
    return HttpResponseRedirect(reverse("admin:agents_agent_board"))


def board_urls(modeladmin) -> list:
    wrap = modeladmin.admin_site.admin_view
    return [
        path("board/", wrap(lambda request: board_view(modeladmin, request)), name="agents_agent_board"),
        path(
            "board/<int:agent_id>/",
            wrap(lambda request, agent_id: board_operation_view(modeladmin, request, agent_id)),
            name="agents_agent_board_operation",
        ),
    ]
