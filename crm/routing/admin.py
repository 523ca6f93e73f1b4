"""Queues in the admin: supervisors manage their teams' queues (and read the queues of no team, which only
administrators change), with the waiting count beside each; a queue still in use cannot be deleted (the reason
is shown)."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from agents.admin_scope import TeamScoped
from config.admin_tools import ServiceErrorsAsMessages
from config.choices import Channel

from .models import Queue, QueueSkill
from .selectors import queue_with_live_figures
from .services.queues import queue_check_overflow, queue_delete, queue_delete_blockers


class QueueAdminForm(forms.ModelForm):
    channels = forms.TypedMultipleChoiceField(choices=Channel.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Queue
        fields = [
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
        ]

    def clean(self):
        cleaned = super().clean()
        if "overflow_queue" in cleaned and "overflow_after_seconds" in cleaned:
            queue_check_overflow(
                queue=self.instance if self.instance.pk else None,
                overflow_queue=cleaned["overflow_queue"],
                overflow_after_seconds=cleaned["overflow_after_seconds"],
            )
        return cleaned


class QueueSkillInline(admin.TabularInline):
    model = QueueSkill
    extra = 0
    fields = ["skill", "min_level"]


@admin.register(Queue)
class QueueAdmin(ServiceErrorsAsMessages, TeamScoped, admin.ModelAdmin):
    team_path, shared_team, owner_field = "team_id", True, "team"
    form = QueueAdminForm
    list_display = ["name", "team", "channel_list", "priority", "sla_policy", "waiting", "is_active"]
    list_filter = ["is_active", "team", "sla_policy", "priority"]
    list_select_related = ["team", "sla_policy"]
    search_fields = ["name", "description"]
    inlines = [QueueSkillInline]

    def get_queryset(self, request):
        return queue_with_live_figures(super().get_queryset(request))

    @admin.display(description=_("channels"))
    def channel_list(self, obj: Queue) -> str:
        return ", ".join(obj.channels)

    @admin.display(description=_("waiting"), ordering="waiting")
    def waiting(self, obj: Queue) -> int:
        return obj.waiting

    def get_deleted_objects(self, objs, request):
        # Listing the reasons as "protected" makes the confirmation page refuse the delete, with the reason shown.
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        for queue in objs:
            protected.extend(queue_delete_blockers(queue=queue))
        return deleted, counts, perms_needed, protected

    def delete_model(self, request, obj):
        queue_delete(queue=obj)

    def delete_queryset(self, request, queryset):
        for queue in queryset:
            queue_delete(queue=queue)
