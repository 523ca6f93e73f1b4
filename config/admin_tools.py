"""What every app's model admins share when they hand their writes to services: records nobody edits here, a
service's refusal shown as a message, and the row a service created taken over by the admin's form.

Who sees which rows is another matter: ``agents.admin_scope``.
"""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect

from config.errors import DomainError


def error_text(exc: Exception) -> str:
    """A service's refusal (``ValidationError`` or ``DomainError``) as one line for a message."""
    return " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)


def adopt(obj, created) -> None:
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
            self.message_user(request, error_text(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self._refusal_as_message(request, super().changeform_view, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        return self._refusal_as_message(request, super().delete_view, object_id, extra_context)

    def changelist_view(self, request, extra_context=None):
        return self._refusal_as_message(request, super().changelist_view, extra_context)
