"""Data protection in the admin: "export" and "erase" actions on the customers' list, for administrators.

The customers' admin belongs to ``contacts``, which may not import crm (layers), so this concern adds its actions
to the registered ``CustomerAdmin`` when crm's admin is loaded (after contacts', by ``INSTALLED_APPS`` order).
The archive is built in the background; its link is on ``GET /api/v1/exports/{id}/`` for whoever asked.
Retention policies are edited here by administrators, each shown with what the next daily run would remove.
"""

from contextvars import ContextVar

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from agents.admin_scope import AdministratorsOnly
from config.roles import is_administrator
from contacts.models import Customer

from .models import RetentionPolicy
from .selectors import Preview, retention_preview
from .services.erase import ErasureRefused, erasure_request
from .services.export import export_request

# The dry run of the page being rendered (computed once per page, not once per row).
_PREVIEWS: ContextVar[dict[int, Preview] | None] = ContextVar("retention_previews", default=None)


@admin.action(description=_("Export the selected customers' data (background, single-use link)"))
def export_customers(modeladmin, request, queryset):
    if not is_administrator(request.user):
        modeladmin.message_user(request, _("Only an administrator may export a customer's data."), messages.ERROR)
        return
    made = [export_request(customer=customer, user=request.user).pk for customer in queryset]
    modeladmin.message_user(
        request, _("Export requests %(ids)s queued; poll /api/v1/exports/<id>/ for the link.") % {"ids": made}
    )


@admin.action(description=_("Erase the selected customers' personal data (after the grace period)"))
def erase_customers(modeladmin, request, queryset):
    if not is_administrator(request.user):
        modeladmin.message_user(request, _("Only an administrator may erase a customer's data."), messages.ERROR)
        return
    for customer in queryset:
        try:
            erasure_request(
                customer=customer, reason=f"asked in the admin by {request.user.get_username()}", user=request.user
            )
        except ErasureRefused as error:
            modeladmin.message_user(request, f"{customer.pk}: {error}", messages.ERROR)
        else:
            modeladmin.message_user(
                request, _("Customer %(id)s: erasure requested (runs after the grace period).") % {"id": customer.pk}
            )


_customers = admin.site._registry.get(Customer)
if _customers is not None:
    _customers.actions = [*(_customers.actions or []), export_customers, erase_customers]


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(AdministratorsOnly, admin.ModelAdmin):
    """Retention policies, with the dry run of the next daily run beside each (administrators only: a policy
    removes every team's data)."""

    list_display = ["name", "target", "channel", "queue", "age_days", "is_active", "next_run", "last_run_at"]
    list_filter = ["target", "is_active", "channel"]
    search_fields = ["name"]
    fields = ["name", "target", "channel", "queue", "age_days", "is_active", "next_run", "last_run_at", "removed_total"]
    readonly_fields = ["next_run", "last_run_at", "removed_total"]

    @admin.display(description=_("next run would remove"))
    def next_run(self, obj) -> str:
        previews = _PREVIEWS.get()
        if obj is None or obj.pk is None or previews is None:
            return "—"
        if not obj.is_active:
            return _("nothing (inactive)")
        preview = previews.get(obj.pk)
        if preview is None:
            return "—"
        if not preview.sample_ids:
            return str(preview)
        return _("%(what)s (e.g. ids %(ids)s)") % {
            "what": preview,
            "ids": ", ".join(str(pk) for pk in preview.sample_ids),
        }

    def _with_previews(self, previews, view, request, *args):
        """The dry run is computed once per page; the page is rendered here, while the figures are in reach."""
        token = _PREVIEWS.set({preview.policy.pk: preview for preview in previews})
        try:
            response = view(request, *args)
            if hasattr(response, "render"):
                response.render()
            return response
        finally:
            _PREVIEWS.reset(token)

    def changelist_view(self, request, extra_context=None):
        previews = retention_preview()
        if due := [preview for preview in previews if preview.total]:
            what = "; ".join(f"{preview} ({preview.policy})" for preview in due)
            self.message_user(request, _("Next run would remove: %(what)s.") % {"what": what}, messages.INFO)
        else:
            self.message_user(request, _("Next run would remove nothing."), messages.INFO)
        return self._with_previews(previews, super().changelist_view, request, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        previews = retention_preview() if object_id else []
        return self._with_previews(previews, super().changeform_view, request, object_id, form_url, extra_context)
