"""Admin of what arrived at the inboxes (``InboundReceipt``): the import log, read-only.

Administrators see every receipt; supervisors those of inboxes whose queue belongs to a team they supervise (like
the interactions the receipts lead to; an inbox on a queue of no team is the administrators'). A failed import
keeps its raw bytes: administrators can "Run again" (``receipt_rerun``) once the cause is fixed; success turns the
receipt imported and drops the bytes. The mailbox cursors (IMAP position, last error) have no page of their own.
"""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from agents.admin_scope import TeamScoped
from config.roles import is_administrator

from .models import InboundReceipt, ReceiptStatus
from .services.inbound import receipt_rerun

RAW_PREVIEW = 4000


@admin.register(InboundReceipt)
class InboundReceiptAdmin(TeamScoped, admin.ModelAdmin):
    team_path = "inbox__queue__team_id"
    list_display = ["received_at", "inbox", "status", "source", "sender", "key", "interaction_link", "attempts"]
    list_filter = ["status", "source", "inbox"]
    list_select_related = ["inbox"]
    search_fields = ["=key", "sender"]
    date_hierarchy = "received_at"
    fields = [
        "inbox",
        "key",
        "status",
        "reason",
        "source",
        "sender",
        "participants",
        "received_at",
        "attempts",
        "size",
        "interaction_link",
        "message",
        "raw_preview",
    ]
    readonly_fields = fields
    actions = ["run_again"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_rerun_permission(self, request) -> bool:
        return is_administrator(request.user)

    @admin.display(description=_("interaction"))
    def interaction_link(self, obj: InboundReceipt):
        if obj.interaction_id is None:
            return "-"
        url = reverse("admin:crm_interaction_change", args=[obj.interaction_id])
        return format_html('<a href="{}">#{}</a>', url, obj.interaction_id)

    @admin.display(description=_("raw message (kept while queued or after a failed import; beginning)"))
    def raw_preview(self, obj: InboundReceipt) -> str:
        if not obj.raw:
            return "-"
        raw = bytes(obj.raw)
        text = raw[:RAW_PREVIEW].decode("utf-8", "replace")
        return text + (f"\n… ({len(raw)} bytes in all)" if len(raw) > RAW_PREVIEW else "")

    @admin.action(description=_("Run the selected failed imports again"), permissions=["rerun"])
    def run_again(self, request, queryset):
        counts = {ReceiptStatus.IMPORTED: 0, ReceiptStatus.NOISE: 0, ReceiptStatus.FAILED: 0}
        for receipt in queryset.filter(status=ReceiptStatus.FAILED, raw__isnull=False):
            counts[receipt_rerun(receipt=receipt).status] += 1
        level = messages.WARNING if counts[ReceiptStatus.FAILED] else messages.SUCCESS
        self.message_user(
            request,
            _("Imported %(imported)d, recorded as noise %(noise)d, failed again %(failed)d.")
            % {
                "imported": counts[ReceiptStatus.IMPORTED],
                "noise": counts[ReceiptStatus.NOISE],
                "failed": counts[ReceiptStatus.FAILED],
            },
            level,
        )
