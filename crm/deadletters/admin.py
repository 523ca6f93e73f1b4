"""Dead letters in the admin, administrators' only: the messages the workers gave up on, queued again from here."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from agents.admin_scope import AdministratorsOnly
from config.admin_tools import ReadOnlyAdmin

from .models import DeadLetter


@admin.register(DeadLetter)
class DeadLetterAdmin(AdministratorsOnly, ReadOnlyAdmin):
    """Messages the workers gave up on; "queue again" sends a copy once the cause is fixed."""

    list_display = ["task_name", "task_id", "delivery_count", "created_at", "requeued_at"]
    list_filter = ["task_name", ("requeued_at", admin.EmptyFieldListFilter)]
    search_fields = ["task_name", "=task_id"]
    actions = ["requeue"]

    @admin.action(description=_("Queue the selected messages again"))
    def requeue(self, request, queryset):
        from config.tasks import dead_letter_requeue

        for dead_letter in queryset:
            dead_letter_requeue(dead_letter=dead_letter)
        count = queryset.count()
        self.message_user(
            request,
            ngettext("%(count)d message queued again.", "%(count)d messages queued again.", count) % {"count": count},
            messages.SUCCESS,
        )
