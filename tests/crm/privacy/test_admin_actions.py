"""The customers' list in the admin: export and erase actions, for administrators only."""

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

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


def test_consent_changes_are_recorded_with_their_source(history, admin_client_api):
    from contacts.models import ConsentRecord
    from crm.surveys.services import survey_opt_out, survey_token
    from tests.crm.factories import SurveyFactory

    customer = history["customer"]
    response = admin_client_api.patch(f"/api/v1/customers/{customer.pk}/", {"marketing_consent": True}, format="json")
    assert response.status_code == 200
    survey = SurveyFactory(interaction=history["interaction"])
    type(survey).objects.filter(pk=survey.pk).update(status="sent", sent_at=timezone.now())  # fixture: unsent
    survey.refresh_from_db()
    survey_opt_out(token=survey_token(survey=survey))
    records = list(
        ConsentRecord.objects.filter(customer=customer).order_by("id").values_list("kind", "granted", "source")
    )
    assert records == [("marketing", True, "api"), ("surveys", False, "survey link")]


def test_only_an_administrator_sets_a_legal_hold_in_the_admin(history, admin_client):
    from contacts.models import Customer

    customer = history["customer"]
    page = admin_client.get(f"{CHANGELIST}{customer.pk}/change/")
    assert b'name="legal_hold"' in page.content
    user = UserFactory(is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_customer", "change_customer"]))
    from django.test import Client

    other = Client()
    other.force_login(user)
    assert b'name="legal_hold"' not in other.get(f"{CHANGELIST}{customer.pk}/change/").content
    assert Customer.objects.get(pk=customer.pk).legal_hold is False


def test_the_database_refuses_to_rewrite_a_consent_record(history):
    from django.db import IntegrityError, transaction

    from contacts.models import ConsentRecord

    record = ConsentRecord.objects.create(customer=history["customer"], kind="marketing", granted=True, source="api")
    with pytest.raises(IntegrityError), transaction.atomic():
        ConsentRecord.objects.filter(pk=record.pk).update(granted=False)
    assert ConsentRecord.objects.get(pk=record.pk).granted is True
