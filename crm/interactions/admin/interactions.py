"""An interaction's admin page and list: added through the intake service, described (subject, priority, tags,
category) but never moved by editing a field — the Resolve / Close / Abandon actions call the lifecycle, and a
message written here goes through ``message_create``. A refusal comes back as an error message.

The core imports no other concern, so what they show about an interaction (its survey, its SLA state and
escalations) they add from their own admin modules with ``interaction_admin_add_inline`` and
``interaction_admin_add_summary`` (``crm/admin.py`` imports every concern's admin before the first request).
"""

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import InlineModelAdmin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from agents.admin_scope import TeamScoped
from config.admin_tools import ServiceErrorsAsMessages, adopt, error_text
from config.errors import DomainError
from crm.choices import MessageDirection

from ..models import Interaction, InteractionEvent, Message
from ..services.intake import interaction_create_inbound
from ..services.lifecycle import interaction_abandon, interaction_close, interaction_resolve, interaction_update
from ..services.messages import message_check_body, message_create

# An interaction belongs to the team of its queue and to the team of the agent holding it (the API's rule).
INTERACTION_TEAMS = ("queue__team_id", "agent__team_id")


def interaction_teams_via(prefix: str) -> tuple[str, ...]:
    """The team paths of the interaction reached through ``prefix`` (for the records of an interaction)."""
    return tuple(f"{prefix}__{path}" for path in INTERACTION_TEAMS)


INTERACTION_ADD_FIELDS = [
    "customer",
    "channel",
    "direction",
    "queue",
    "subject",
    "priority",
    "external_id",
    "tags",
    "category",
]
# What may be edited on an existing interaction: its description. Everything else moves through services.
INTERACTION_EDITABLE = ["subject", "priority", "tags", "category"]
INTERACTION_FIELDSETS = [
    (None, {"fields": ["customer", "channel", "direction", "queue", "agent", "external_id", "follow_up_of"]}),
    ("Description", {"fields": ["subject", "priority", "tags", "category", "disposition"]}),
    (
        "Status",
        {
            "fields": [
                "status",
                "created_at",
                "queued_at",
                "assigned_at",
                "accepted_at",
                "first_response_at",
                "resolved_at",
                "closed_at",
                "abandoned_at",
                "updated_at",
            ]
        },
    ),
    (
        "Service level",
        {
            "fields": [
                "sla_started_at",
                "first_response_due_at",
                "next_response_from",
                "next_response_due_at",
                "resolution_due_at",
                "sla_paused_at",
                "sla_next_check_at",
            ]
        },
    ),
    ("Handling time (seconds)", {"fields": ["talk_seconds", "hold_seconds", "wrap_up_seconds"]}),
]


class InteractionAddForm(forms.ModelForm):
    class Meta:
        model = Interaction
        fields = INTERACTION_ADD_FIELDS

    def clean(self):
        cleaned = super().clean()
        queue, channel = cleaned.get("queue"), cleaned.get("channel")
        if queue is not None and channel and channel not in queue.channels:
            self.add_error("queue", f"Queue '{queue}' does not serve the {channel} channel.")
        return cleaned


class MessageHistoryInline(admin.TabularInline):
    """The conversation so far, as it was: messages are records."""

    model = Message
    extra = 0
    fields = ["created_at", "direction", "author", "body", "attachments"]
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = "messages"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class NewMessageForm(forms.ModelForm):
    direction = forms.ChoiceField(
        choices=[(MessageDirection.OUTBOUND, "To the customer"), (MessageDirection.INTERNAL, "Internal note")]
    )

    class Meta:
        model = Message
        fields = ["direction", "body"]

    def clean_body(self):
        body = self.cleaned_data.get("body", "")
        try:
            message_check_body(body=body)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None
        return body


class NewMessageInline(admin.StackedInline):
    """Writing a message from the admin: saved by ``message_create`` (first response, events), see save_formset."""

    model = Message
    form = NewMessageForm
    extra = 0
    can_delete = False
    verbose_name = "new message"
    verbose_name_plural = "write a message"

    def get_queryset(self, request):
        return super().get_queryset(request).none()

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class InteractionEventInline(admin.TabularInline):
    model = InteractionEvent
    extra = 0
    fields = ["at", "kind", "from_status", "to_status", "actor", "agent", "data"]
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = "events"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


RESOLVED = ngettext_lazy("%(count)d interaction resolved.", "%(count)d interactions resolved.", "count")
CLOSED = ngettext_lazy("%(count)d interaction closed.", "%(count)d interactions closed.", "count")
ABANDONED = ngettext_lazy("%(count)d interaction abandoned.", "%(count)d interactions abandoned.", "count")


def _run_lifecycle(modeladmin, request, queryset, done_text, move) -> None:
    """``done_text``: an ngettext_lazy(..., "count") message for how many moved."""
    done, refused = 0, []
    for interaction in queryset:
        try:
            move(interaction)
        except (DomainError, ValidationError) as exc:
            refused.append(f"#{interaction.pk}: {error_text(exc)}")
        else:
            done += 1
    if done:
        modeladmin.message_user(request, done_text % {"count": done}, messages.SUCCESS)
    for reason in refused:
        modeladmin.message_user(request, reason, messages.ERROR)


# The inlines of an existing interaction's page, in order; other concerns insert theirs (see the module doc).
INTERACTION_INLINES: list[type[InlineModelAdmin]] = [MessageHistoryInline, NewMessageInline, InteractionEventInline]


@admin.register(Interaction)
class InteractionAdmin(ServiceErrorsAsMessages, TeamScoped, admin.ModelAdmin):
    team_path, owner_field = INTERACTION_TEAMS, "queue"
    list_display = [
        "id",
        "subject",
        "customer",
        "channel",
        "queue",
        "status",
        "priority",
        "agent",
        "created_at",
        "first_response_due_at",
    ]
    list_filter = ["status", "channel", "queue", "priority", "agent__team", "created_at"]
    list_select_related = ["customer", "queue", "agent"]
    search_fields = ["subject", "external_id", "customer__name", "customer__email"]
    date_hierarchy = "created_at"
    autocomplete_fields = ["customer"]
    raw_id_fields = ["agent", "follow_up_of"]
    actions = ["resolve", "close", "abandon"]

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": INTERACTION_ADD_FIELDS})]
        return INTERACTION_FIELDSETS

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = InteractionAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [f for fieldset in INTERACTION_FIELDSETS for f in fieldset[1]["fields"] if f not in INTERACTION_EDITABLE]

    def get_inlines(self, request, obj):
        if obj is None:
            return []
        return list(INTERACTION_INLINES)

    def has_delete_permission(self, request, obj=None) -> bool:
        # Interactions are the center's record (reports, FCR); a customer's erasure goes through contacts.
        return False

    def save_model(self, request, obj, form, change):
        if not change:
            created = interaction_create_inbound(
                actor=request.user, **{name: form.cleaned_data[name] for name in INTERACTION_ADD_FIELDS}
            )
            adopt(obj, created)
            return
        changes = {name: form.cleaned_data[name] for name in INTERACTION_EDITABLE if name in form.changed_data}
        if changes:
            interaction_update(interaction=obj, actor=request.user, **changes)

    def save_formset(self, request, form, formset, change):
        if formset.model is not Message:
            formset.save()
            return
        created = [
            message_create(
                interaction=form.instance,
                direction=message_form.cleaned_data["direction"],
                body=message_form.cleaned_data["body"],
                author=request.user,
            )
            for message_form in formset.forms
            if message_form.has_changed() and message_form.cleaned_data
        ]
        # what formset.save() would have recorded, for the admin's change message
        formset.new_objects, formset.changed_objects, formset.deleted_objects = created, [], []

    @admin.action(description=_("Resolve the selected interactions"), permissions=["change"])
    def resolve(self, request, queryset):
        _run_lifecycle(
            self, request, queryset, RESOLVED, lambda i: interaction_resolve(interaction=i, actor=request.user)
        )

    @admin.action(description=_("Close the selected interactions"), permissions=["change"])
    def close(self, request, queryset):
        _run_lifecycle(self, request, queryset, CLOSED, lambda i: interaction_close(interaction=i, actor=request.user))

    @admin.action(description=_("Abandon the selected interactions"), permissions=["change"])
    def abandon(self, request, queryset):
        _run_lifecycle(
            self, request, queryset, ABANDONED, lambda i: interaction_abandon(interaction=i, actor=request.user)
        )


# --- what the other concerns show on an interaction's page ---------------------------------------------------


def interaction_admin_add_inline(inline: type[InlineModelAdmin], *, after: type[InlineModelAdmin]) -> None:
    """Show ``inline`` on an existing interaction's page right after ``after`` (whatever the import order)."""
    if inline not in INTERACTION_INLINES:
        INTERACTION_INLINES.insert(INTERACTION_INLINES.index(after) + 1, inline)


def interaction_admin_add_summary(summary: Callable[[Interaction], str], *, fieldset: str) -> None:
    """Show ``summary`` (an ``admin.display`` function of an interaction) as the last column of the interaction
    list and as the first line of ``fieldset`` on an interaction's page, under the function's name."""
    name = summary.__name__
    if name in InteractionAdmin.list_display:
        return
    setattr(InteractionAdmin, name, staticmethod(summary))
    InteractionAdmin.list_display = [*InteractionAdmin.list_display, name]
    dict(INTERACTION_FIELDSETS)[fieldset]["fields"].insert(0, name)
