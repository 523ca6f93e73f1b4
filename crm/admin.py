"""Admin of the contact center: set-up (queues, SLA policies, API keys) and a supervisor's view of the work.

Status changes never happen by editing a field: interactions move through ``crm.services.lifecycle``
(the Resolve / Close / Abandon actions), messages are added through ``crm.services.messages``, and
API keys are made by ``crm.services.api_keys`` so the raw key is shown once and only its hash kept.
Records (events, survey answers, idempotency records) are read-only. Rule violations a form cannot
foresee (a concurrent change) come back as an error message, never as a server error.

Who sees what (``agents.admin_scope``): supervisors get their teams' queues and work (and read the queues of no
team and the center-wide SLA policies and calendars, which only administrators change); API keys, webhooks,
dead letters and idempotency records are administrators' only.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.utils import timezone

from agents.admin_scope import AdministratorsChange, AdministratorsOnly, TeamScoped
from config.api.permissions import ALL_SCOPES
from config.choices import Channel
from config.errors import DomainError

from .choices import MessageDirection
from .models import (
    ApiKey,
    Assignment,
    BusinessHours,
    BusinessHoursHoliday,
    BusinessHoursPeriod,
    CannedResponse,
    DeadLetter,
    Escalation,
    IdempotencyRecord,
    Interaction,
    InteractionEvent,
    Message,
    Queue,
    QueueSkill,
    SLAPolicy,
    SLATarget,
    Survey,
    SurveyResponse,
    SurveySuppressionRule,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)
from .selectors.queues import queue_with_live_figures
from .services import api_keys, lifecycle, webhooks
from .services import messages as message_services
from .services.calendars import business_hours_delete, business_hours_touch
from .services.queues import (
    TargetSpec,
    queue_check_overflow,
    queue_delete,
    queue_delete_blockers,
    sla_check_targets,
    sla_policy_delete,
    sla_policy_delete_blockers,
)
from .services.sla import sla_check_escalation_steps, sla_request_recompute, sla_state

# An interaction belongs to the team of its queue and to the team of the agent holding it (the API's rule).
INTERACTION_TEAMS = ("queue__team_id", "agent__team_id")


def _teams_via(prefix: str) -> tuple[str, ...]:
    return tuple(f"{prefix}__{path}" for path in INTERACTION_TEAMS)


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


def _adopt(obj, created) -> None:
    """Make the admin's unsaved ``obj`` the row a service created, so the admin's redirect and log use it."""
    obj.pk = created.pk
    obj.refresh_from_db()
    obj._state.adding = False


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records: visible to whoever may view them, changed by nobody here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ServiceErrorsAsMessages:
    """A service's refusal while saving or deleting (e.g. a race the form could not see) becomes an error message.

    The admin runs each of these views in a transaction, which has rolled back by the time the error is caught.
    """

    def _refusal_as_message(self, request, view, *args):
        try:
            return view(request, *args)
        except (DomainError, ValidationError) as exc:
            self.message_user(request, _error_text(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self._refusal_as_message(request, super().changeform_view, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        return self._refusal_as_message(request, super().delete_view, object_id, extra_context)

    def changelist_view(self, request, extra_context=None):
        return self._refusal_as_message(request, super().changelist_view, extra_context)


# --- queues ------------------------------------------------------------------------------------------------------


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

    @admin.display(description="channels")
    def channel_list(self, obj: Queue) -> str:
        return ", ".join(obj.channels)

    @admin.display(description="waiting", ordering="waiting")
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


@admin.register(CannedResponse)
class CannedResponseAdmin(TeamScoped, admin.ModelAdmin):
    team_path, shared_team, owner_field = "queue__team_id", True, "queue"
    list_display = ["title", "shortcut", "queue", "is_active", "created_at"]
    list_filter = ["is_active", "queue"]
    list_select_related = ["queue"]
    search_fields = ["title", "shortcut", "body"]
    fields = ["title", "shortcut", "body", "queue", "is_active"]


# --- SLA policies ------------------------------------------------------------------------------------------------


class SLATargetFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        specs = [
            TargetSpec(
                channel=form.cleaned_data.get("channel", ""),
                priority=form.cleaned_data.get("priority"),
                first_response_seconds=form.cleaned_data.get("first_response_seconds") or 0,
                resolution_seconds=form.cleaned_data.get("resolution_seconds"),
            )
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        try:
            sla_check_targets(targets=specs)
        except ValidationError as exc:
            # the formset's own unique check skips rows with an empty priority; the database does not
            raise ValidationError(exc.messages) from None


class SLATargetInline(admin.TabularInline):
    model = SLATarget
    formset = SLATargetFormSet
    extra = 0
    fields = [
        "channel",
        "priority",
        "first_response_seconds",
        "next_response_seconds",
        "resolution_seconds",
        "is_default",
    ]


class SLAPolicyForm(forms.ModelForm):
    class Meta:
        model = SLAPolicy
        fields = ["name", "description", "business_hours", "pause_on_hold", "escalation_steps", "is_active"]
        help_texts = {
            "escalation_steps": 'e.g. [{"target": "first_response", "action": "warn", "at": 0.8}, '
            '{"target": "resolution", "action": "move_to_queue", "after_seconds": 600, "queue": 3}]',
        }

    def clean_escalation_steps(self):
        try:
            return sla_check_escalation_steps(self.cleaned_data.get("escalation_steps") or [])
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None


@admin.register(SLAPolicy)
class SLAPolicyAdmin(ServiceErrorsAsMessages, AdministratorsChange, admin.ModelAdmin):
    form = SLAPolicyForm
    list_display = ["name", "business_hours", "pause_on_hold", "is_active", "created_at"]
    list_filter = ["is_active", "business_hours", "pause_on_hold"]
    list_select_related = ["business_hours"]
    search_fields = ["name", "description"]
    inlines = [SLATargetInline]
    readonly_fields = ["created_at"]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if change:
            # the open interactions under the policy follow its new targets, calendar and plan
            sla_request_recompute(policy_ids=[form.instance.pk])

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        for policy in objs:
            protected.extend(sla_policy_delete_blockers(policy=policy))
        return deleted, counts, perms_needed, protected

    def delete_model(self, request, obj):
        sla_policy_delete(policy=obj)

    def delete_queryset(self, request, queryset):
        for policy in queryset:
            sla_policy_delete(policy=policy)


# --- business hours ----------------------------------------------------------------------------------------------


class PeriodFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        kept = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        if not kept:
            raise ValidationError("A calendar needs at least one open period.")


class BusinessHoursPeriodInline(admin.TabularInline):
    model = BusinessHoursPeriod
    formset = PeriodFormSet
    extra = 0
    fields = ["weekday", "start", "end"]


class BusinessHoursHolidayInline(admin.TabularInline):
    model = BusinessHoursHoliday
    extra = 0
    fields = ["date", "name", "recurring"]


@admin.register(BusinessHours)
class BusinessHoursAdmin(ServiceErrorsAsMessages, AdministratorsChange, admin.ModelAdmin):
    """Calendars edited inline; saving bumps the calendar (its cache key) and recomputes open work under it."""

    list_display = ["name", "time_zone", "updated_at"]
    search_fields = ["name"]
    inlines = [BusinessHoursPeriodInline, BusinessHoursHolidayInline]
    readonly_fields = ["created_at", "updated_at"]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        business_hours_touch(calendar=form.instance)

    def delete_model(self, request, obj):
        business_hours_delete(calendar=obj)

    def delete_queryset(self, request, queryset):
        for calendar in queryset:
            business_hours_delete(calendar=calendar)


# --- escalations -------------------------------------------------------------------------------------------------


@admin.register(Escalation)
class EscalationAdmin(TeamScoped, admin.ModelAdmin):
    """What the SLA sweep recorded: a record, read-only."""

    team_path = _teams_via("interaction")
    list_display = ["id", "interaction", "target", "kind", "step", "action", "due_at", "created_at", "outcome"]
    list_filter = ["target", "kind", "action", "due_at"]
    list_select_related = ["interaction"]
    search_fields = ["=interaction__id", "outcome"]
    date_hierarchy = "due_at"
    raw_id_fields = ["interaction"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class EscalationInline(admin.TabularInline):
    model = Escalation
    extra = 0
    fields = ["due_at", "target", "kind", "step", "action", "outcome"]
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = "SLA escalations"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


def sla_summary(interaction: Interaction) -> str:
    """One line for people: breached clocks, or the nearest due one and how long is left."""
    state = sla_state(interaction=interaction)
    if state.breached:
        return "breached: " + ", ".join(name.replace("_", " ") for name in state.breached)
    left = {name: s for name, s in state.remaining_seconds.items() if s is not None}
    if not left:
        return "—"
    name, seconds = min(left.items(), key=lambda item: item[1])
    text = f"{name.replace('_', ' ')} in {seconds // 3600}h {seconds % 3600 // 60:02d}m"
    return f"{text} (paused)" if state.paused else text


# --- interactions ------------------------------------------------------------------------------------------------

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
                "sla",
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
            message_services.message_check_body(body=body)
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

    @admin.display(description="score")
    def score(self, obj: Survey):
        response = getattr(obj, "response", None)
        return response.score if response else "—"

    @admin.display(description="comment")
    def comment(self, obj: Survey) -> str:
        response = getattr(obj, "response", None)
        return response.comment if response else ""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


def _run_lifecycle(modeladmin, request, queryset, verb: str, move) -> None:
    done, refused = 0, []
    for interaction in queryset:
        try:
            move(interaction)
        except (DomainError, ValidationError) as exc:
            refused.append(f"#{interaction.pk}: {_error_text(exc)}")
        else:
            done += 1
    if done:
        modeladmin.message_user(request, f"{done} interaction(s) {verb}.", messages.SUCCESS)
    for reason in refused:
        modeladmin.message_user(request, reason, messages.ERROR)


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
        "sla",
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
        return [
            MessageHistoryInline,
            NewMessageInline,
            InteractionSurveyInline,
            InteractionEventInline,
            EscalationInline,
        ]

    @admin.display(description="SLA")
    def sla(self, obj: Interaction) -> str:
        return sla_summary(obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        # Interactions are the center's record (reports, FCR); a customer's erasure goes through contacts.
        return False

    def save_model(self, request, obj, form, change):
        if not change:
            created = lifecycle.interaction_create_inbound(
                actor=request.user, **{name: form.cleaned_data[name] for name in INTERACTION_ADD_FIELDS}
            )
            _adopt(obj, created)
            return
        changes = {name: form.cleaned_data[name] for name in INTERACTION_EDITABLE if name in form.changed_data}
        if changes:
            lifecycle.interaction_update(interaction=obj, actor=request.user, **changes)

    def save_formset(self, request, form, formset, change):
        if formset.model is not Message:
            formset.save()
            return
        created = [
            message_services.message_create(
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

    @admin.action(description="Resolve the selected interactions", permissions=["change"])
    def resolve(self, request, queryset):
        _run_lifecycle(
            self,
            request,
            queryset,
            "resolved",
            lambda i: lifecycle.interaction_resolve(interaction=i, actor=request.user),
        )

    @admin.action(description="Close the selected interactions", permissions=["change"])
    def close(self, request, queryset):
        _run_lifecycle(
            self, request, queryset, "closed", lambda i: lifecycle.interaction_close(interaction=i, actor=request.user)
        )

    @admin.action(description="Abandon the selected interactions", permissions=["change"])
    def abandon(self, request, queryset):
        _run_lifecycle(
            self,
            request,
            queryset,
            "abandoned",
            lambda i: lifecycle.interaction_abandon(interaction=i, actor=request.user),
        )


class MessageAddForm(NewMessageForm):
    direction = forms.ChoiceField(choices=MessageDirection.choices)

    class Meta:
        model = Message
        fields = ["interaction", "direction", "body"]


@admin.register(Message)
class MessageAdmin(ServiceErrorsAsMessages, TeamScoped, admin.ModelAdmin):
    """Messages are records: an existing one is read-only; a new one is written by ``message_create``."""

    team_path, owner_field = _teams_via("interaction"), "interaction"
    list_display = ["id", "interaction", "direction", "author", "created_at", "preview"]
    list_filter = ["direction", "created_at"]
    list_select_related = ["interaction", "author"]
    search_fields = ["body", "external_id"]
    date_hierarchy = "created_at"
    raw_id_fields = ["interaction", "author"]
    fields = ["interaction", "direction", "author", "body", "attachments", "external_id", "created_at"]

    @admin.display(description="body")
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
        created = message_services.message_create(
            interaction=form.cleaned_data["interaction"],
            direction=form.cleaned_data["direction"],
            body=form.cleaned_data["body"],
            author=request.user,
        )
        _adopt(obj, created)


@admin.register(InteractionEvent)
class InteractionEventAdmin(TeamScoped, ReadOnlyAdmin):
    team_path = _teams_via("interaction")
    list_display = ["interaction", "kind", "from_status", "to_status", "actor", "agent", "at"]
    list_filter = ["kind", "to_status"]
    list_select_related = ["interaction", "actor", "agent"]
    search_fields = ["interaction__subject", "kind"]
    date_hierarchy = "at"


@admin.register(Assignment)
class AssignmentAdmin(TeamScoped, ReadOnlyAdmin):
    """Who held which work, from offer to end (written by the lifecycle only)."""

    team_path = _teams_via("interaction")
    list_display = ["interaction", "agent", "offered_at", "accepted_at", "ended_at", "end_reason"]
    list_filter = ["end_reason"]
    list_select_related = ["interaction", "agent"]
    search_fields = ["interaction__subject", "agent__name"]
    date_hierarchy = "offered_at"


# --- surveys -----------------------------------------------------------------------------------------------------


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

    team_path = _teams_via("interaction")
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
    team_path = _teams_via("survey__interaction")
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


# --- webhooks and the dead letters -------------------------------------------------------------------------------


class WebhookAdminForm(forms.ModelForm):
    class Meta:
        model = Webhook
        fields = ["name", "url", "events", "secret", "is_active"]

    def clean_url(self):
        try:
            return webhooks.webhook_check_url(self.cleaned_data.get("url", ""))
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["url"]) from None

    def clean_events(self):
        try:
            return webhooks.webhook_check_events(self.cleaned_data.get("events") or [])
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["events"]) from None


@admin.register(Webhook)
class WebhookAdmin(AdministratorsOnly, admin.ModelAdmin):
    """Subscriptions; a disabled one shows why, and the change list warns while any is disabled.

    Administrators' only: a subscription receives every team's events, and its secret signs them."""

    form = WebhookAdminForm
    list_display = ["__str__", "url", "is_active", "failure_count", "failing_since", "disabled_reason"]
    list_filter = ["is_active"]
    search_fields = ["name", "url"]
    readonly_fields = ["failure_count", "failing_since", "disabled_at", "disabled_reason", "created_by", "created_at"]

    def changelist_view(self, request, extra_context=None):
        for webhook in Webhook.objects.filter(is_active=False).exclude(disabled_reason=""):
            self.message_user(request, f"Webhook {webhook} is disabled: {webhook.disabled_reason}", messages.WARNING)
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        elif "is_active" in form.changed_data and obj.is_active:
            obj.failure_count, obj.failing_since, obj.disabled_at, obj.disabled_reason = 0, None, None, ""
        super().save_model(request, obj, form, change)


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ["attempted_at", "status_code", "latency_ms", "error"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(AdministratorsOnly, ReadOnlyAdmin):
    list_display = ["event_type", "event_id", "webhook", "status", "attempts", "last_status_code", "next_attempt_at"]
    list_filter = ["status", "event_type"]
    list_select_related = ["webhook"]
    search_fields = ["=event_id"]
    date_hierarchy = "created_at"
    inlines = [WebhookAttemptInline]
    actions = ["resend"]

    @admin.action(description="Send the selected deliveries again")
    def resend(self, request, queryset):
        for delivery in queryset:
            webhooks.webhook_resend(delivery=delivery)
        self.message_user(request, f"{queryset.count()} deliveries queued again.", messages.SUCCESS)


@admin.register(DeadLetter)
class DeadLetterAdmin(AdministratorsOnly, ReadOnlyAdmin):
    """Messages the workers gave up on; "queue again" sends a copy once the cause is fixed."""

    list_display = ["task_name", "task_id", "delivery_count", "created_at", "requeued_at"]
    list_filter = ["task_name", ("requeued_at", admin.EmptyFieldListFilter)]
    search_fields = ["task_name", "=task_id"]
    actions = ["requeue"]

    @admin.action(description="Queue the selected messages again")
    def requeue(self, request, queryset):
        from config.tasks import dead_letter_requeue

        for dead_letter in queryset:
            dead_letter_requeue(dead_letter=dead_letter)
        self.message_user(request, f"{queryset.count()} message(s) queued again.", messages.SUCCESS)


# --- API keys ----------------------------------------------------------------------------------------------------


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=[(scope, scope) for scope in ALL_SCOPES],
        widget=forms.CheckboxSelectMultiple,
        help_text="read: safe requests; write: changes; admin: everything, incl. set-up resources.",
    )

    class Meta:
        model = ApiKey
        fields = ["name", "scopes", "team", "expires_at"]

    def clean_name(self):
        name = self.cleaned_data.get("name", "").strip()
        if not name:
            raise ValidationError("An API key needs a name.")
        return name

    def clean_expires_at(self):
        expires_at = self.cleaned_data.get("expires_at")
        if expires_at is not None and expires_at <= timezone.now() and "expires_at" in self.changed_data:
            raise ValidationError("Choose a time in the future.")
        return expires_at


@admin.register(ApiKey)
class ApiKeyAdmin(ServiceErrorsAsMessages, AdministratorsOnly, admin.ModelAdmin):
    """Keys are created by ``api_key_create``: the raw key is shown once, in the message after saving.
    Administrators' only: a key bound to no team is unrestricted."""

    form = ApiKeyForm
    list_display = ["name", "prefix", "scope_list", "team", "last_used_at", "revoked_at", "expires_at"]
    list_filter = ["team", ("revoked_at", admin.EmptyFieldListFilter), "created_at"]
    list_select_related = ["team"]
    search_fields = ["name", "prefix"]
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "scopes", "team", "expires_at"]
        # hashed_key is never displayed
        return [
            "name",
            "prefix",
            "scopes",
            "team",
            "expires_at",
            "created_by",
            "created_at",
            "last_used_at",
            "revoked_at",
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["prefix", "created_by", "created_at", "last_used_at", "revoked_at"]

    @admin.display(description="scopes")
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        created, raw_key = api_keys.api_key_create(
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            team=form.cleaned_data["team"],
            expires_at=form.cleaned_data["expires_at"],
            created_by=request.user,
        )
        _adopt(obj, created)
        self.message_user(
            request,
            f"The new API key is {raw_key} — copy it now: it is not stored and will not be shown again.",
            messages.SUCCESS,
        )

    @admin.action(description="Revoke the selected API keys", permissions=["change"])
    def revoke(self, request, queryset):
        revoked = 0
        for key in queryset.filter(revoked_at__isnull=True):
            api_keys.api_key_revoke(api_key=key)
            revoked += 1
        self.message_user(request, f"{revoked} API key(s) revoked.", messages.SUCCESS)


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(AdministratorsOnly, ReadOnlyAdmin):
    list_display = ["owner", "key", "response_status", "created_at"]
    list_filter = ["response_status", "created_at"]
    search_fields = ["=owner", "key"]
    date_hierarchy = "created_at"


from . import admin_quality  # noqa: E402,F401  (quality reviews: scorecards, sampling, scoring)
from .inboxes import admin_receipts  # noqa: E402,F401  (inbound receipts: the e-mail import log, run again)
