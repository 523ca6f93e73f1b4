"""Webhooks in the admin, administrators' only (a subscription receives every team's events, and its secret signs
them): subscriptions (a disabled one says why) and their deliveries, which can be sent again."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from agents.admin_scope import AdministratorsOnly
from config.admin_tools import ReadOnlyAdmin

from .models import Webhook, WebhookAttempt, WebhookDelivery
from .services import webhook_check_events, webhook_check_url, webhook_resend


class WebhookAdminForm(forms.ModelForm):
    class Meta:
        model = Webhook
        fields = ["name", "url", "events", "secret", "is_active"]

    def clean_url(self):
        try:
            return webhook_check_url(self.cleaned_data.get("url", ""))
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["url"]) from None

    def clean_events(self):
        try:
            return webhook_check_events(self.cleaned_data.get("events") or [])
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
            self.message_user(
                request,
                _("Webhook %(webhook)s is disabled: %(reason)s")
                % {"webhook": webhook, "reason": webhook.disabled_reason},
                messages.WARNING,
            )
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

    @admin.action(description=_("Send the selected deliveries again"))
    def resend(self, request, queryset):
        for delivery in queryset:
            webhook_resend(delivery=delivery)
        count = queryset.count()
        self.message_user(
            request,
            ngettext("%(count)d delivery queued again.", "%(count)d deliveries queued again.", count)
            % {"count": count},
            messages.SUCCESS,
        )
