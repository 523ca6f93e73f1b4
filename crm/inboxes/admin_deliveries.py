"""Admin of the delivery outbox (``Delivery``): what left, what waits and what failed, read-only.

Administrators see every delivery; supervisors those of inboxes whose queue belongs to a team they supervise (the
receipts' rule). A failed delivery can be put back in the outbox by an administrator ("Retry"), as the agent's
console and the API do for one message (``delivery_retry``); waiting and sent ones are left alone.
"""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from agents.admin_scope import TeamScoped
from config.admin_tools import ReadOnlyAdmin
from config.errors import DomainError
from config.roles import is_administrator
from crm.choices import DeliveryStatus

from .models import Delivery
from .services.delivery import delivery_retry


@admin.register(Delivery)
class DeliveryAdmin(TeamScoped, ReadOnlyAdmin):
    team_path = "inbox__queue__team_id"
    list_display = ["created_at", "inbox", "status", "attempts", "interaction_link", "error_short", "sent_at"]
    list_filter = ["status", "inbox"]
    list_select_related = ["inbox", "message"]
    search_fields = ["=message__interaction__id", "=provider_id"]
    date_hierarchy = "created_at"
    fields = [
        "inbox",
        "interaction_link",
        "message",
        "status",
        "attempts",
        "error",
        "provider_id",
        "created_at",
        "next_attempt_at",
        "sent_at",
    ]
    readonly_fields = fields
    actions = ["retry"]

    def has_retry_permission(self, request) -> bool:
        return is_administrator(request.user)

    @admin.display(description=_("interaction"))
    def interaction_link(self, obj: Delivery):
        interaction_id = obj.message.interaction_id
        url = reverse("admin:crm_interaction_change", args=[interaction_id])
        return format_html('<a href="{}">#{}</a>', url, interaction_id)

    @admin.display(description=_("error"))
    def error_short(self, obj: Delivery) -> str:
        return obj.error if len(obj.error) <= 80 else obj.error[:79] + "…"

    @admin.action(description=_("Retry the selected failed deliveries"), permissions=["retry"])
    def retry(self, request, queryset):
        retried = 0
        for delivery in queryset.filter(status=DeliveryStatus.FAILED).select_related("message"):
            try:
                delivery_retry(message=delivery.message)
                retried += 1
            except DomainError:  # sent or put back meanwhile
                continue
        self.message_user(
            request,
            ngettext(
                "%(count)d failed delivery put back in the outbox.",
                "%(count)d failed deliveries put back in the outbox.",
                retried,
            )
            % {"count": retried},
            messages.SUCCESS,
        )
