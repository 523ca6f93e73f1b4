"""What the agent sees of inboxes in the console: channel and inbox, where a reply goes, each reply's delivery with
a retry for failed ones, attachments to download (for those who may see the interaction), and live updates."""

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from crm.choices import DeliveryStatus, InteractionStatus, MessageDirection
from crm.inboxes.attachments import attachment_store
from crm.inboxes.models import Delivery
from crm.inboxes.services.delivery import delivery_send
from crm.interactions import services as lifecycle
from tests.agents.factories import AgentFactory, TeamFactory
from tests.crm.inboxes.outbound import CUSTOMER, delivery_of, email_inbox, email_work, reply

pytestmark = pytest.mark.django_db

D = DeliveryStatus
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


@pytest.fixture
def team():
    return TeamFactory(name="Support")


@pytest.fixture
def agent(team):
    return AgentFactory(team=team, name="Ana Agent")


def console(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _page(client, work) -> str:
    response = client.get(f"/console/interactions/{work.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_shows_channel_inbox_and_to_whom_a_reply_goes(agent, team):
    work = email_work(email_inbox(team=team), agent=agent)

    page = _page(console(agent.user), work)

    assert '<span class="channel">Email</span>' in page
    assert '<span class="inbox-name">Acme support</span>' in page
    assert f"Reply to <strong>{CUSTOMER}</strong> from <strong>support@acme.test</strong>" in page


def test_each_reply_shows_its_delivery_and_a_failed_one_can_be_retried(agent, team, smtp_sink):
    work = email_work(email_inbox(team=team, smtp_url=smtp_sink.url()), agent=agent)
    sent = reply(work, body="First answer")
    delivery_send(delivery_id=delivery_of(sent).pk)
    smtp_sink.permanent.add(CUSTOMER)
    failed = reply(work, body="Second answer")
    delivery_send(delivery_id=delivery_of(failed).pk)
    pending = reply(work, body="Third answer")
    client = console(agent.user)

    page = _page(client, work)

    assert page.count('class="delivery delivery-') == 3
    assert f'id="delivery-{sent.pk}"' in page and '<span class="delivery-status">Sent</span>' in page
    assert '<span class="delivery-status">Failed</span><span class="delivery-error">: recipient refused: 550' in page
    assert '<span class="delivery-status">Pending</span>' in page
    retry = f'action="/console/interactions/{work.pk}/messages/{failed.pk}/retry/" class="delivery-retry">'
    assert retry in page  # shown for the failed reply only: the others' forms are hidden
    assert page.count('class="delivery-retry" hidden>') == 2
    assert pending.pk and 'name="csrfmiddlewaretoken"' in page

    answer = client.post(f"/console/interactions/{work.pk}/messages/{failed.pk}/retry/")

    assert answer.status_code == 302 and answer["Location"].endswith(
        f"/console/interactions/{work.pk}/#message-{failed.pk}"
    )
    assert Delivery.objects.get(message=failed).status == D.PENDING
    assert "The reply will be sent again." in client.get(answer["Location"]).content.decode()


def test_retrying_follows_the_rule_of_writing_on_the_interaction(agent, team):
    work = email_work(email_inbox(team=team), agent=agent)
    failed = reply(work)
    Delivery.objects.filter(message=failed).update(status=D.FAILED)
    teammate, stranger = AgentFactory(team=team), AgentFactory(team=TeamFactory())
    url = f"/console/interactions/{work.pk}/messages/{failed.pk}/retry/"

    assert console(stranger.user).post(url).status_code == 404
    assert console(teammate.user).post(url).status_code == 404  # a teammate's active work is not in their view
    assert console(agent.user).get(url).status_code == 405
    assert Client().post(url).status_code == 302  # to the login page
    assert Delivery.objects.get(message=failed).status == D.FAILED
    # queued work of their team: visible to the teammate, but not theirs to write on
    waiting = email_work(work.inbox, status=InteractionStatus.QUEUED)
    waiting_reply = reply(waiting)
    Delivery.objects.filter(message=waiting_reply).update(status=D.FAILED)
    refused = console(teammate.user).post(f"/console/interactions/{waiting.pk}/messages/{waiting_reply.pk}/retry/")
    assert refused.status_code == 403 and "Not yours to do" in refused.content.decode()
    csrf_checked = Client(enforce_csrf_checks=True)
    csrf_checked.force_login(agent.user)
    assert csrf_checked.post(url).status_code == 403
    assert Delivery.objects.get(message=failed).status == D.FAILED


def test_attachments_are_listed_and_downloaded_only_by_who_may_see_the_interaction(agent, team):
    inbox = email_inbox(team=team)
    work = email_work(inbox, agent=agent)
    data = b"%PDF-1.4 invoice"
    stored = attachment_store(filename="invoice.pdf", content_type="application/pdf", data=data)
    skipped = {"name": "video.mp4", "content_type": "video/mp4", "size": 30_000_000, "skipped": "over 25 MB"}
    body_part = attachment_store(filename="message.html", content_type="text/html", data=b"<p>See attached.</p>")
    message = lifecycle.message_create(
        interaction=work,
        direction=MessageDirection.INBOUND,
        body="See attached.",
        attachments=[stored, skipped, body_part | {"body_html": True}],
    )
    url = f"/console/interactions/{work.pk}/messages/{message.pk}/attachments/0/"

    page = _page(console(agent.user), work)
    assert f'<a href="{url}" download>invoice.pdf</a>' in page
    assert "message.html" not in page  # the mail's own HTML body is no attachment of the customer's
    assert (
        'video.mp4 <span class="size">(28.6\xa0MB)</span> <span class="skipped">— not kept: over 25 MB</span>' in page
    )

    download = console(agent.user).get(url)
    assert download.status_code == 200 and b"".join(download.streaming_content) == data
    assert download["Content-Disposition"] == 'attachment; filename="invoice.pdf"'
    assert download["X-Content-Type-Options"] == "nosniff"
    other_team = AgentFactory(team=TeamFactory())
    assert console(other_team.user).get(url).status_code == 404
    assert console(agent.user).get(url.replace("/0/", "/1/")).status_code == 404  # listed, but not kept
    assert Client().get(url).status_code == 302


def test_a_delivery_change_reaches_the_agents_console_live(agent, team, settings, django_capture_on_commit_callbacks):
    layers = {**settings.CHANNEL_LAYERS}
    layers["default"] = {**layers["default"], "CONFIG": {**layers["default"]["CONFIG"], "prefix": "sb-test-delivery"}}
    settings.CHANNEL_LAYERS = layers
    work = email_work(email_inbox(team=team), agent=agent, status=InteractionStatus.ACTIVE)
    message = reply(work)
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(f"agent.{agent.pk}", channel)

    with django_capture_on_commit_callbacks(execute=True):
        delivery_send(delivery_id=delivery_of(message).pk)

    event = async_to_sync(layer.receive)(channel)
    assert event["event"] == "message.delivery"
    assert event["data"] == {
        "interaction": work.pk,
        "message": message.pk,
        "status": "sent",
        "error": "",
        "attempts": 1,
    }


def test_the_agent_attaches_files_to_a_reply_and_the_customer_gets_them(
    agent, team, smtp_sink, eager_tasks, django_capture_on_commit_callbacks
):
    work = email_work(email_inbox(team=team, smtp_url=smtp_sink.url()), agent=agent)
    client = console(agent.user)
    assert 'enctype="multipart/form-data"' in _page(client, work) and 'name="attachments"' in _page(client, work)
    files = [
        SimpleUploadedFile("steps.txt", b"1. restart", "text/plain"),
        SimpleUploadedFile("a.png", PNG, "image/png"),
    ]

    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"/console/interactions/{work.pk}/reply/", {"body": "See attached.", "attachments": files})

    assert answer.status_code == 302
    sent = smtp_sink.received[0].message
    text, image = sent.iter_attachments()
    assert (text.get_filename(), text.get_content().strip()) == ("steps.txt", "1. restart")
    assert (image.get_filename(), image.get_content_type(), image.get_content()) == ("a.png", "image/png", PNG)
    page = _page(client, work)
    assert ">steps.txt</a>" in page and ">a.png</a>" in page and '<span class="delivery-status">Sent</span>' in page


def test_too_many_files_are_refused_with_the_reason(agent, team):
    work = email_work(email_inbox(team=team), agent=agent)
    files = [SimpleUploadedFile(f"f{n}.txt", b"x") for n in range(11)]

    answer = console(agent.user).post(f"/console/interactions/{work.pk}/reply/", {"body": "Hi", "attachments": files})

    assert answer.status_code == 400 and "Attach at most 10 files." in answer.content.decode()
    assert not work.messages.filter(direction="outbound").exists()
