"""Export: 202 then a background build, a signed link only the requester sees and may use once, every section."""

import io
import json
import time
import zipfile

import pytest
from django.utils import timezone

from crm.interactions.models import Interaction, Message
from crm.privacy.models import ExportRequest
from crm.privacy.tasks import export_build_task
from tests.contacts.factories import CustomerFactory
from tests.crm.factories import QueueFactory

from .conftest import BODY, COMMENT, EMAIL, NOTE, PHONE, REPLY

pytestmark = pytest.mark.django_db


def _archive(response) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_export_is_built_in_the_background_and_downloaded_once_by_the_requester(
    history, admin_client_api, key_client_factory
):
    customer = history["customer"]
    started = admin_client_api.post(f"/api/v1/customers/{customer.pk}/export/")
    assert started.status_code == 202
    assert (started.json()["status"], started.json()["download_url"]) == ("pending", None)
    export_id = started.json()["id"]
    assert admin_client_api.get(f"/api/v1/exports/{export_id}/").json()["download_url"] is None

    assert export_build_task(export_id) == "done"  # what the worker runs
    polled = admin_client_api.get(f"/api/v1/exports/{export_id}/").json()
    assert (polled["status"], polled["progress"]) == ("done", 100)
    url = polled["download_url"]
    assert url and "?t=" in url

    other_admin = key_client_factory(["admin"])
    assert other_admin.get(f"/api/v1/exports/{export_id}/").json()["download_url"] is None  # not the requester
    assert other_admin.get(url).status_code == 404

    downloaded = admin_client_api.get(url)
    assert downloaded.status_code == 200
    archive = _archive(downloaded)
    files = {name: archive.read(name).decode() for name in archive.namelist()}
    assert {
        "profile.json",
        "identities.json",
        "notes.json",
        "interactions.json",
        "messages.json",
        "events.json",
    } <= set(files)
    assert EMAIL in files["profile.json"] and PHONE in files["identities.json"]
    assert NOTE in files["notes.json"]
    assert BODY in files["messages.json"] and REPLY in files["messages.json"]
    assert COMMENT in files["survey_answers.json"]
    assert json.loads(files["attachments.json"])[0]["name"] == "scan.txt"
    assert json.loads(files["consents.json"]) == {"surveys": True, "marketing": False}
    assert json.loads(files["manifest.json"])["rows"]["interactions.json"] == 1
    assert "token" not in json.loads(files["surveys.json"])[0]  # the survey link's secret stays out

    again = admin_client_api.get(url)
    assert again.status_code == 404  # once
    assert ExportRequest.objects.get(pk=export_id).downloaded_at is not None
    assert admin_client_api.get(f"/api/v1/exports/{export_id}/").json()["download_url"] is None


def test_a_forged_or_foreign_link_is_refused(history, admin_client_api):
    export_id = admin_client_api.post(f"/api/v1/customers/{history['customer'].pk}/export/").json()["id"]
    export_build_task(export_id)
    assert admin_client_api.get(f"/api/v1/exports/{export_id}/download/?t=forged").status_code == 404
    assert admin_client_api.get(f"/api/v1/exports/{export_id}/download/").status_code == 404


def test_team_keys_and_non_admin_scopes_cannot_export(history, write_client, key_client_factory):
    from tests.agents.factories import TeamFactory

    customer = history["customer"]
    assert write_client.post(f"/api/v1/customers/{customer.pk}/export/").status_code == 403
    team_admin = key_client_factory(["admin"], team=TeamFactory())
    assert team_admin.post(f"/api/v1/customers/{customer.pk}/export/").status_code == 403
    assert not ExportRequest.objects.exists()


def test_an_unknown_customer_is_a_404(admin_client_api):
    assert admin_client_api.post("/api/v1/customers/999999/export/").status_code == 404
    assert admin_client_api.post("/api/v1/customers/abc/export/").status_code == 404


def test_a_customer_with_5000_interactions_is_exported_by_the_background_job(admin_client_api):
    customer = CustomerFactory()
    queue = QueueFactory()
    now = timezone.now()
    works = Interaction.objects.bulk_create(
        Interaction(customer=customer, channel="chat", queue=queue, subject=f"s{n}", created_at=now)
        for n in range(5000)
    )
    Message.objects.bulk_create(
        Message(interaction=work, direction="inbound", body=f"body {work.pk}", created_at=now) for work in works
    )
    export_id = admin_client_api.post(f"/api/v1/customers/{customer.pk}/export/").json()["id"]
    started = time.monotonic()
    export_build_task(export_id)
    elapsed = time.monotonic() - started
    export = ExportRequest.objects.get(pk=export_id)
    with zipfile.ZipFile(export.file.open("rb")) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        assert len(json.loads(archive.read("messages.json"))) == 5000
    assert manifest["rows"]["interactions.json"] == 5000
    print(f"export of 5000 interactions + 5000 messages: {elapsed:.2f}s, {export.size} bytes")
