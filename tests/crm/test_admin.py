"""Every crm model admin: registered, and its pages render for a superuser."""

import pytest

from crm.routing.models import Queue
from tests.crm.admin_pages import crm_models, make, url

pytestmark = pytest.mark.django_db

READ_ONLY = {
    "interactionevent",
    "survey",
    "surveyresponse",
    "delivery",
    "idempotencyrecord",
    "assignment",
    "escalation",
    "inboundreceipt",
    "webhookdelivery",
    "deadletter",
}
MADE_BY_SERVICES = {"review"}  # sampled from the review list's "Sample interactions" page, not added by hand


def test_every_crm_model_is_registered():
    names = {m._meta.model_name for m in crm_models()}

    assert names >= {"queue", "slapolicy", "interaction", "message", "interactionevent", "survey"}
    assert names >= {"surveyresponse", "apikey", "idempotencyrecord"}


@pytest.mark.parametrize("model", crm_models(), ids=lambda m: m._meta.model_name)
def test_admin_pages_render_for_a_superuser(admin_client, model):
    obj = make(model)

    assert admin_client.get(url(model, "changelist")).status_code == 200
    assert admin_client.get(url(model, "changelist"), {"q": "x" * 300}).status_code == 200
    assert admin_client.get(url(model, "change", obj.pk)).status_code == 200
    add = admin_client.get(url(model, "add"))
    assert add.status_code == (403 if model._meta.model_name in READ_ONLY | MADE_BY_SERVICES else 200)


@pytest.mark.parametrize("object_id", ["999999", "abc", str(2**70)])
def test_change_page_of_a_missing_object_redirects(admin_client, object_id):
    assert admin_client.get(url(Queue, "change", object_id)).status_code == 302
