"""Service levels in the admin: SLA policies with their targets, business-hours calendars, and the escalations the
sweep recorded; on an interaction's page, its SLA state (a column and a line) and its escalations.

Policies and calendars are the center's: whoever may view them reads them, only administrators change them
(``AdministratorsChange``). Saving either recomputes the open work under it; a policy or calendar in use cannot be
deleted (the reason is shown). Escalations are records, scoped to the supervisor's teams.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from agents.admin_scope import AdministratorsChange, TeamScoped
from config.admin_tools import ServiceErrorsAsMessages
from crm.interactions.admin import (
    InteractionEventInline,
    interaction_admin_add_inline,
    interaction_admin_add_summary,
    interaction_teams_via,
)
from crm.interactions.models import Interaction

from .models import BusinessHours, BusinessHoursHoliday, BusinessHoursPeriod, Escalation, SLAPolicy, SLATarget
from .services.calendars import business_hours_delete, business_hours_touch
from .services.engine import sla_request_recompute
from .services.policies import TargetSpec, sla_check_targets, sla_policy_delete, sla_policy_delete_blockers
from .services.state import sla_state
from .services.steps import sla_check_escalation_steps

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
            raise ValidationError(_("A calendar needs at least one open period."))


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

    team_path = interaction_teams_via("interaction")
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


@admin.display(description=_("SLA"))
def sla(interaction: Interaction) -> str:
    """An interaction's SLA state in one line for people: breached clocks, or the nearest due one and how long is
    left (the column and the line named ``sla`` on the interaction pages)."""
    state = sla_state(interaction=interaction)
    if state.breached:
        return "breached: " + ", ".join(name.replace("_", " ") for name in state.breached)
    left = {name: s for name, s in state.remaining_seconds.items() if s is not None}
    if not left:
        return "—"
    name, seconds = min(left.items(), key=lambda item: item[1])
    text = f"{name.replace('_', ' ')} in {seconds // 3600}h {seconds % 3600 // 60:02d}m"
    return f"{text} (paused)" if state.paused else text


interaction_admin_add_summary(sla, fieldset="Service level")
interaction_admin_add_inline(EscalationInline, after=InteractionEventInline)
