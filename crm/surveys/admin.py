"""Surveys in the admin, read-only (the survey service sends them; the customer's token is never shown), their
answers, and the suppression rules supervisors keep for their teams' queues; on an interaction's page, its survey.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from agents.admin_scope import TeamScoped
from config.admin_tools import ReadOnlyAdmin
from crm.interactions.admin import NewMessageInline, interaction_admin_add_inline, interaction_teams_via

from .models import Survey, SurveyResponse, SurveySuppressionRule


class InteractionSurveyInline(admin.TabularInline):
    """The interaction's survey, whether it went out (or why not) and the customer's answer."""

    model = Survey
    extra = 0
    fields = ["kind", "status", "suppressed_reason", "sent_at", "score", "comment"]
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = "survey"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("response")

    @admin.display(description=_("score"))
    def score(self, obj: Survey):
        response = getattr(obj, "response", None)
        return response.score if response else "—"

    @admin.display(description=_("comment"))
    def comment(self, obj: Survey) -> str:
        response = getattr(obj, "response", None)
        return response.comment if response else ""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class SurveyResponseInline(admin.StackedInline):
    model = SurveyResponse
    fields = ["score", "comment", "answered_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Survey)
class SurveyAdmin(TeamScoped, ReadOnlyAdmin):
    """Surveys are sent by the survey service; the token (a customer's key to answer) is not shown."""

    team_path = interaction_teams_via("interaction")
    list_display = ["id", "interaction", "kind", "status", "dispatch_after", "sent_at", "answered"]
    list_filter = ["kind", "status", "channel", "sent_at"]
    list_select_related = ["interaction", "response"]
    fields = [
        "interaction",
        "kind",
        "status",
        "channel",
        "dispatch_after",
        "sent_at",
        "attempts",
        "last_error",
        "suppressed_reason",
        "created_at",
    ]
    inlines = [SurveyResponseInline]

    @admin.display(boolean=True)
    def answered(self, obj: Survey) -> bool:
        return hasattr(obj, "response")


@admin.register(SurveyResponse)
class SurveyResponseAdmin(TeamScoped, ReadOnlyAdmin):
    team_path = interaction_teams_via("survey__interaction")
    list_display = ["survey", "score", "answered_at", "comment"]
    list_filter = ["survey__kind", "score"]
    list_select_related = ["survey"]
    search_fields = ["comment"]
    date_hierarchy = "answered_at"


@admin.register(SurveySuppressionRule)
class SurveySuppressionRuleAdmin(TeamScoped, admin.ModelAdmin):
    """Supervisors say when not to ask in their teams' queues: per queue and/or channel, by disposition, category
    or reply window. Rules of no queue (or a shared one) hold for the whole center: administrators change them."""

    team_path, shared_team, owner_field = "queue__team_id", True, "queue"
    list_display = ["__str__", "queue", "channel", "dispositions", "categories", "reply_window_hours", "is_active"]
    list_filter = ["is_active", "channel", "queue"]
    list_select_related = ["queue"]
    fields = ["queue", "channel", "dispositions", "categories", "reply_window_hours", "note", "is_active"]


interaction_admin_add_inline(InteractionSurveyInline, after=NewMessageInline)
