"""Data protection in the admin: "export" and "erase" actions on the customers' list, for administrators.

The customers' admin belongs to ``contacts``, which may not import crm (layers), so this concern adds its actions
to the registered ``CustomerAdmin`` when crm's admin is loaded (after contacts', by ``INSTALLED_APPS`` order).
The archive is built in the background; its link is on ``GET /api/v1/exports/{id}/`` for whoever asked.
"""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from config.roles import is_administrator
from contacts.models import Customer

from .services.erase import ErasureRefused, erasure_request
from .services.export import export_request


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
