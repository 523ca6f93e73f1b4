"""Retention: the dry run shows what the next run removes, the run removes exactly that in batches, resumable and
idempotent, customers under legal hold are exempt, and the reports of the period keep their figures."""

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from contacts.models import Customer
from crm.calls.models import Call
from crm.deadletters.models import DeadLetter
from crm.inboxes.models import InboundReceipt
from crm.inboxes.services.inbound import email_receive
from crm.interactions.models import Interaction, Message
from crm.privacy.models import RetentionPolicy
from crm.privacy.selectors import retention_preview
from crm.privacy.services.retention import retention_run
from crm.privacy.tasks import retention_run_task
from crm.surveys.models import SurveyResponse
from crm.webhooks.models import WebhookDelivery
from tests.crm.factories import DeadLetterFactory, QueueFactory, WebhookDeliveryFactory
from tests.crm.inboxes.factories import InboxFactory

from .conftest import BODY, COMMENT, REPLY

pytestmark = pytest.mark.django_db
KPIS = "/api/v1/reports/kpis/"
LATER = timedelta(days=40)


def _kpis(client):
    today = timezone.now().date()
    day = {"from": today.isoformat(), "to": (today + timedelta(days=1)).isoformat(), "tz": "UTC"}
    response = client.get(KPIS, {**day, "group_by": "channel"})
    assert response.status_code == 200
    return response.json()["rows"]


def _policy(target, age_days=30, **scope):
    return RetentionPolicy.objects.create(name=f"{target} {age_days}d", target=target, age_days=age_days, **scope)


@pytest.fixture
def everything(history, write_client):
    """Besides the history: a finished call with a recording, a failed import, a dead letter, a delivered webhook."""
    queue = QueueFactory(name="Phones", channels=["voice"])
    line = InboxFactory(name="Hotline", channel="voice", adapter="voice", queue=queue, settings={})
    started = write_client.post("/api/v1/calls/", {"inbox": line.pk, "call_id": "CA9", "caller": "+4930555111"})
    call_id = started.json()["id"]
    for kind, data in (("ended", {}), ("recording", {"url": "https://rec.example/CA9.mp3"})):
        response = write_client.post(f"/api/v1/calls/{call_id}/events/", {"type": kind, **data}, format="json")
        assert response.status_code == 200, response.content
    receipt = email_receive(inbox=InboxFactory(), raw=b"Subject: no sender\r\n\r\nhi\r\n", source="endpoint")
    assert receipt.raw is not None
    DeadLetterFactory(args=[{"body": BODY}])
    WebhookDeliveryFactory(
        status="delivered", payload={"id": "e1", "type": "message.created", "data": {"message": {"body": REPLY}}}
    )
    return history


ALL_TARGETS = ("messages", "recordings", "survey_comments", "raw_imports", "webhook_payloads")


def test_the_dry_run_equals_what_the_run_removes_and_the_report_is_unchanged(everything, read_client):
    for target in ALL_TARGETS:
        _policy(target)
    before = _kpis(read_client)
    assert any(row["handled"] for row in before)
    now = timezone.now()
    assert all(preview.total == 0 for preview in retention_preview(now=now))  # nothing is 30 days old yet

    previews = {preview.policy.target: preview for preview in retention_preview(now=now + LATER)}
    interaction = everything["interaction"]
    assert previews["messages"].counts == {"messages": 2}
    assert previews["messages"].interactions == 1 and previews["messages"].sample_ids == [interaction.pk]
    assert str(previews["messages"]) == "2 message bodies of 1 interaction"
    assert previews["recordings"].total == 1 and previews["survey_comments"].total == 1
    assert previews["raw_imports"].counts == {"dead_letters": 1, "raw_imports": 1}
    assert previews["webhook_payloads"].total == 1  # the pending deliveries of the history are not due
    expected = {target: preview.total for target, preview in previews.items()}

    removed = {target: 0 for target in ALL_TARGETS}
    for _ in range(10):  # batches of one row per policy and kind: the run comes back for the rest
        result = retention_run(now=now + LATER, batch_size=1)
        if not result["more"] and not result["removed"]:
            break
    for policy in RetentionPolicy.objects.all():
        removed[policy.target] = policy.removed_total
    assert removed == expected

    assert all(preview.total == 0 for preview in retention_preview(now=now + LATER))
    assert list(Message.objects.filter(interaction=interaction).values_list("body", "attachments")) == [
        ("", []),
        ("", []),
    ]
    assert not default_storage.exists(everything["path"])
    response = SurveyResponse.objects.get(survey__interaction=interaction)
    assert (response.comment, response.score) == ("", 5)
    assert Call.objects.get().recording_url == "" and Call.objects.get().outcome == "self_service"
    assert DeadLetter.objects.get().args == [] and InboundReceipt.objects.get(status="failed").raw is None
    delivered = WebhookDelivery.objects.get(status="delivered")
    assert delivered.payload == {"id": "e1", "type": "message.created", "data": {}}
    assert COMMENT not in str(WebhookDelivery.objects.filter(status="delivered").values_list("payload"))
    work = Interaction.objects.get(pk=interaction.pk)
    assert (work.status, work.disposition, work.subject) == ("resolved", "solved", interaction.subject)
    assert _kpis(read_client) == before


def test_a_customer_under_legal_hold_keeps_everything(everything):
    _policy("messages")
    _policy("survey_comments")
    _policy("webhook_payloads")
    customer = everything["customer"]
    WebhookDelivery.objects.filter(status="delivered").delete()  # the fixture's, of nobody in particular
    WebhookDeliveryFactory(status="delivered", payload={"data": {"interaction": {"customer_id": customer.pk}}})
    later = timezone.now() + LATER
    assert [preview.total for preview in retention_preview(now=later)] == [2, 1, 1]  # messages, comments, payloads
    Customer.objects.filter(pk=customer.pk).update(legal_hold=True)

    assert all(preview.total == 0 for preview in retention_preview(now=later))
    assert retention_run(now=later)["removed"] == 0
    assert set(Message.objects.values_list("body", flat=True)) == {BODY, REPLY}
    assert default_storage.exists(everything["path"])


def test_a_policy_keeps_to_its_channel_queue_and_age(everything):
    chat = _policy("messages", channel="chat")  # chat transcripts: the e-mail work is not theirs
    other_queue = _policy("survey_comments", queue=QueueFactory(name="Elsewhere"))
    long = _policy("recordings", age_days=90)
    email = _policy("messages", channel="email", queue=everything["queue"])
    later = timezone.now() + LATER

    totals = {preview.policy.pk: preview.total for preview in retention_preview(now=later)}
    assert totals == {chat.pk: 0, other_queue.pk: 0, long.pk: 0, email.pk: 2}
    RetentionPolicy.objects.filter(pk=email.pk).update(is_active=False)
    assert email.pk not in {preview.policy.pk for preview in retention_preview(now=later)}
    assert retention_run(now=later)["removed"] == 0


def test_overlapping_policies_count_each_row_once(everything):
    short, wide = _policy("messages", age_days=10), _policy("messages", age_days=20)
    later = timezone.now() + LATER

    totals = {preview.policy.pk: preview.total for preview in retention_preview(now=later)}
    assert totals == {short.pk: 2, wide.pk: 0}
    assert retention_run(now=later)["removed"] == 2


def test_the_daily_task_works_in_batches_until_done_and_a_second_run_changes_nothing(everything, eager_tasks, settings):
    settings.SWITCHBOARD_RETENTION_BATCH_SIZE = 1
    _policy("messages")
    _policy("webhook_payloads")
    old = timezone.now() - LATER
    Interaction.objects.filter(pk=everything["interaction"].pk).update(resolved_at=old)
    WebhookDelivery.objects.update(created_at=old)
    assert sum(preview.total for preview in retention_preview()) == 3

    retention_run_task()  # one message per batch; each run queues the next until nothing is left

    assert set(Message.objects.values_list("body", flat=True)) == {""}
    assert WebhookDelivery.objects.get(status="delivered").payload["data"] == {}
    assert sorted(RetentionPolicy.objects.values_list("removed_total", flat=True)) == [1, 2]
    assert retention_run_task() == 0
    assert sum(preview.total for preview in retention_preview()) == 0


def test_the_admin_shows_what_the_next_run_would_remove(everything, admin_client):
    policy = _policy("messages", age_days=1)
    Interaction.objects.filter(pk=everything["interaction"].pk).update(resolved_at=timezone.now() - LATER)

    page = admin_client.get("/admin/crm/retentionpolicy/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Next run would remove: 2 message bodies of 1 interaction" in text
    change = admin_client.get(f"/admin/crm/retentionpolicy/{policy.pk}/change/")
    assert f"2 message bodies of 1 interaction (e.g. ids {everything['interaction'].pk})" in change.content.decode()


def test_the_admin_refuses_a_scope_that_cannot_apply(admin_client):
    page = admin_client.post(
        "/admin/crm/retentionpolicy/add/",
        {"name": "Payloads", "target": "webhook_payloads", "channel": "chat", "age_days": "30", "is_active": "on"},
    )
    assert page.status_code == 200 and "belong to no channel or queue" in page.content.decode()
    page = admin_client.post(
        "/admin/crm/retentionpolicy/add/", {"name": "Zero", "target": "messages", "age_days": "0", "is_active": "on"}
    )
    assert page.status_code == 200 and not RetentionPolicy.objects.exists()
    page = admin_client.post(
        "/admin/crm/retentionpolicy/add/",
        {"name": "Chat transcripts", "target": "messages", "channel": "chat", "age_days": "365", "is_active": "on"},
    )
    assert page.status_code == 302
    assert RetentionPolicy.objects.get().channel == "chat"
