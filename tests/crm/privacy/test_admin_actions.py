"""The customers' list in the admin: export and erase actions, for administrators only."""

import pytest
from django.contrib.auth.models import Permission

from crm.privacy.models import ErasureRequest, ExportRequest
from tests.agents.factories import UserFactory

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/contacts/customer/"


def _act(client, action, customer):
    return client.post(CHANGELIST, {"action": action, "_selected_action": [customer.pk]}, follow=True)


def test_an_administrator_exports_and_asks_to_erase_from_the_list(history, admin_client):
    customer = history["customer"]
    assert b"requests" in _act(admin_client, "export_customers", customer).content
    export = ExportRequest.objects.get()
    assert (export.customer_id, export.status, export.requested_by.username) == (customer.pk, "pending", "admin")
    _act(admin_client, "erase_customers", customer)
    erasure = ErasureRequest.objects.get()
    assert (erasure.status, erasure.immediately, erasure.reason) == ("pending", False, "asked in the admin by admin")


def test_a_staff_member_who_may_change_customers_cannot_export_or_erase(history, client):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_customer", "change_customer"]))
    client.force_login(user)
    for action in ("export_customers", "erase_customers"):
        _act(client, action, history["customer"])
    assert not ExportRequest.objects.exists() and not ErasureRequest.objects.exists()
