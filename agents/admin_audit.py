"""The audit log in the admin: read only, searchable, filterable, exportable as CSV.

Administrators read every entry; a supervisor the entries about their teams' objects (agents, teams, queues,
breaks… of the teams they supervise: ``AuditEntry.team``) and the entries of their own actions; anyone else in
the admin none (``agents.admin_scope``).
"""

import json

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.exports import csv_lines

from .admin_scope import TeamScoped, supervised_team_ids
from .models import AuditEntry

CSV_COLUMNS = ("at", "source", "actor", "client_ip", "action", "object_type", "object_id", "object", "changes")


def audit_csv_rows(queryset: QuerySet):
    for entry in queryset.select_related("content_type").iterator(chunk_size=2000):
        yield {
            "at": entry.at.isoformat(),
            "source": entry.source,
            "actor": entry.actor,
            "client_ip": entry.client_ip or "",
            "action": entry.action,
            "object_type": entry.content_type.model if entry.content_type else "",
            "object_id": entry.object_id,
            "object": entry.object_repr,
            "changes": json.dumps(entry.changes, ensure_ascii=False, sort_keys=True),
        }


@admin.register(AuditEntry)
class AuditEntryAdmin(TeamScoped, admin.ModelAdmin):
    list_display = ["at", "actor", "source", "action", "content_type", "object_repr", "client_ip", "team"]
    list_filter = ["source", "action", "content_type", "team"]
    list_select_related = ["content_type", "team"]
    search_fields = ["actor", "object_repr", "object_id", "action", "client_ip"]
    date_hierarchy = "at"
    actions = ["export_csv"]
    fields = ["at", "source", "actor", "actor_user", "actor_api_key_id", "client_ip", "action", "content_type",
              "object_id", "object_repr", "team", "changes_pretty"]  # fmt: skip
    readonly_fields = fields
    show_full_result_count = False  # the log grows without end: no COUNT(*) of it on every page

    def scoped(self, request, queryset: QuerySet, *, writable: bool = False) -> QuerySet:
        team_ids = supervised_team_ids(request)
        if team_ids is None:
            return queryset
        return queryset.filter(Q(team_id__in=team_ids) | Q(actor_user_id=request.user.pk))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def response_action(self, request, queryset, *args, **kwargs):
        # Exporting changes nothing: the rows the user may read (TeamScoped narrows actions to writable rows).
        return admin.ModelAdmin.response_action(self, request, self.get_queryset(request), *args, **kwargs)

    @admin.display(description=_("changes"))
    def changes_pretty(self, obj) -> str:
        return json.dumps(obj.changes, ensure_ascii=False, indent=2, sort_keys=True)

    @admin.action(description=_("Export selected entries as CSV"), permissions=["view"])
    def export_csv(self, request, queryset):
        # The rows as they are now: the export's own entry (written as the response leaves) is not in the file.
        last = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
        response = StreamingHttpResponse(
            csv_lines(list(CSV_COLUMNS), audit_csv_rows(queryset.filter(id__lte=last).order_by("at", "id"))),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="audit-{timezone.now():%Y%m%d-%H%M}.csv"'
        return response
