"""The records of interactions in the admin: messages (an existing one is read-only, a new one is written by
``message_create``), the event log and the ownership history (read-only: the lifecycle writes them)."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from agents.admin_scope import TeamScoped
from config.admin_tools import ReadOnlyAdmin, ServiceErrorsAsMessages, adopt
from crm.choices import MessageDirection

from ..models import Assignment, InteractionEvent, Message
from ..services.messages import message_create
from .interactions import NewMessageForm, interaction_teams_via


class MessageAddForm(NewMessageForm):
    direction = forms.ChoiceField(choices=MessageDirection.choices)

    class Meta:
        model = Message
        fields = ["interaction", "direction", "body"]


@admin.register(Message)
class MessageAdmin(ServiceErrorsAsMessages, TeamScoped, admin.ModelAdmin):
    """Messages are records: an existing one is read-only; a new one is written by ``message_create``."""

    team_path, owner_field = interaction_teams_via("interaction"), "interaction"
    list_display = ["id", "interaction", "direction", "author", "created_at", "preview"]
    list_filter = ["direction", "created_at"]
    list_select_related = ["interaction", "author"]
    search_fields = ["body", "external_id"]
    date_hierarchy = "created_at"
    raw_id_fields = ["interaction", "author"]
    fields = ["interaction", "direction", "author", "body", "attachments", "external_id", "created_at"]

    @admin.display(description=_("body"))
    def preview(self, obj: Message) -> str:
        return obj.body[:80]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = MessageAddForm
            kwargs["fields"] = ["interaction", "direction", "body"]
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return ["interaction", "direction", "body"] if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return  # nothing on an existing message is editable
        created = message_create(
            interaction=form.cleaned_data["interaction"],
            direction=form.cleaned_data["direction"],
            body=form.cleaned_data["body"],
            author=request.user,
        )
        adopt(obj, created)


@admin.register(InteractionEvent)
class InteractionEventAdmin(TeamScoped, ReadOnlyAdmin):
    team_path = interaction_teams_via("interaction")
    list_display = ["interaction", "kind", "from_status", "to_status", "actor", "agent", "at"]
    list_filter = ["kind", "to_status"]
    list_select_related = ["interaction", "actor", "agent"]
    search_fields = ["interaction__subject", "kind"]
    date_hierarchy = "at"


@admin.register(Assignment)
class AssignmentAdmin(TeamScoped, ReadOnlyAdmin):
    """Who held which work, from offer to end (written by the lifecycle only)."""

    team_path = interaction_teams_via("interaction")
    list_display = ["interaction", "agent", "offered_at", "accepted_at", "ended_at", "end_reason"]
    list_filter = ["end_reason"]
    list_select_related = ["interaction", "agent"]
    search_fields = ["interaction__subject", "agent__name"]
    date_hierarchy = "offered_at"
