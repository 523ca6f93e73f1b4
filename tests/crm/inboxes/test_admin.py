"""Inboxes in the admin: administrators connect them, supervisors read their teams' ones, no page shows a secret,
and the inbound URL appears once."""

import html
import logging
import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from crm.inboxes.models import Delivery, Inbox, InboxState
from tests.admin_world import form_data
from tests.agents.factories import TeamFactory, UserFactory
from tests.crm.factories import InteractionFactory, QueueFactory
from tests.crm.groups import default_groups
from tests.crm.inboxes.factories import InboxFactory
from tests.crm.inboxes.outbound import delivery_of, email_inbox, email_work, reply

pytestmark = pytest.mark.django_db

PASSWORD = "hunter2-Imap"
IMAP_URL = f"imaps://support:{PASSWORD}@mail.acme.test:993/INBOX"
ADD = reverse("admin:crm_inbox_add")
CHANGELIST = reverse("admin:crm_inbox_changelist")


def change_url(inbox) -> str:
    return reverse("admin:crm_inbox_change", args=[inbox.pk])


def page(response) -> str:
    return response.content.decode()


def textarea(response, name: str) -> str:
    found = re.search(rf'<textarea name="{name}"[^>]*>(.*?)</textarea>', page(response), re.S)
    return html.unescape(found.group(1)).strip()


def posted_back(response) -> dict:
    """What a browser sends back from the change form as it was rendered."""
    return form_data(response) | {name: textarea(response, name) for name in ("shown_settings", "new_secrets")}


def add_form(queue, **overrides) -> dict:
    return {
        "name": "Support",
        "channel": "email",
        "adapter": "",
        "queue": queue.pk,
        "display_name": "Acme Support",
        "shown_settings": '{"address": "support@acme.test"}',
        "new_secrets": f'{{"imap_url": "{IMAP_URL}"}}',
        "is_active": "on",
    } | overrides


@pytest.fixture
def email_queue():
    return QueueFactory(name="E-mail", channels=["email"])


@pytest.fixture
def supervisor_of():
    default_groups()

    def make(team) -> Client:
        user = UserFactory(is_staff=True)
        user.groups.add(Group.objects.get(name="Supervisor"))
        team.supervisors.add(user)
        client = Client()
        client.force_login(user)
        return client

    return make


def test_adding_an_inbox_shows_its_inbound_url_once_and_its_secret_never(admin_client, email_queue, settings):
    settings.SWITCHBOARD_PUBLIC_URL = "https://help.acme.test"

    response = admin_client.post(ADD, add_form(email_queue), follow=True)

    inbox = Inbox.objects.get()
    url = f"https://help.acme.test/inbound/email/{inbox.token}/"
    assert url in page(response) and "copy it now, it is not shown again" in page(response)
    assert inbox.settings["imap_url"] == IMAP_URL and inbox.settings["address"] == "support@acme.test"
    assert inbox.display_name == "Acme Support" and inbox.adapter == "email"
    for again in (admin_client.get(CHANGELIST), admin_client.get(change_url(inbox))):
        assert again.status_code == 200
        assert inbox.token not in page(again) and PASSWORD not in page(again)
    history = admin_client.get(reverse("admin:crm_inbox_history", args=[inbox.pk]))
    assert PASSWORD not in page(history) and inbox.token not in page(history)


def test_the_change_form_shows_settings_redacted_and_keeps_the_secret_when_posted_back(admin_client):
    inbox = InboxFactory(settings={**InboxFactory.build().settings, "imap_url": IMAP_URL})

    form = admin_client.get(change_url(inbox))
    assert "imaps://support:***@mail.acme.test:993/INBOX" in page(form) and PASSWORD not in page(form)
    assert textarea(form, "new_secrets") == ""
    assert '"imap_url": "imaps://support:***@mail.acme.test:993/INBOX"' in textarea(form, "shown_settings")

    response = admin_client.post(change_url(inbox), posted_back(form) | {"name": "Help desk"})

    assert response.status_code == 302, response.context["errors"] if response.context else response
    inbox.refresh_from_db()
    assert inbox.name == "Help desk" and inbox.settings["imap_url"] == IMAP_URL


def test_a_new_secret_replaces_the_stored_one(admin_client):
    inbox = InboxFactory(settings={**InboxFactory.build().settings, "imap_url": IMAP_URL})
    Inbox.objects.filter(pk=inbox.pk).update(state=InboxState.REAUTHORISE, state_detail="login refused")
    data = posted_back(admin_client.get(change_url(inbox)))
    new_url = "imaps://support:fresh-Pa55@mail.acme.test:993/INBOX"

    response = admin_client.post(change_url(inbox), data | {"new_secrets": f'{{"imap_url": "{new_url}"}}'})

    assert response.status_code == 302
    inbox.refresh_from_db()
    assert inbox.settings["imap_url"] == new_url and inbox.state == InboxState.ACTIVE


def test_form_errors_name_the_setting_and_never_echo_a_secret(admin_client, email_queue):
    typed = f'{{"address": "not an address", "imap_url": "{IMAP_URL}"}}'  # a secret typed in the wrong box

    secrets = f'{{"smtp_url": "smtp://relay:{PASSWORD}@smtp.acme.test:badport"}}'

    response = admin_client.post(ADD, add_form(email_queue, shown_settings=typed, new_secrets=secrets))

    assert response.status_code == 200 and not Inbox.objects.exists()
    errors = " ".join(str(error) for error in response.context["errors"])
    assert "address: a valid e-mail address is required (the support address)" in errors
    assert "smtp_url: not a valid smtp URL: Port could not be cast to integer value as" in errors
    assert textarea(response, "new_secrets") == ""
    assert PASSWORD not in page(response)
    assert "imaps://support:***@mail.acme.test:993/INBOX" in page(response)  # what was typed, redacted


def test_a_redacted_value_is_no_secret(admin_client, email_queue):
    shown = '{"address": "support@acme.test", "imap_url": "imaps://support:***@mail.acme.test/INBOX"}'

    response = admin_client.post(ADD, add_form(email_queue, shown_settings=shown, new_secrets=""))

    assert response.status_code == 200 and not Inbox.objects.exists()
    assert "imap_url: a redacted value; type the secret under New secret values." in str(response.context["errors"])


def test_the_queue_must_serve_the_channel(admin_client):
    response = admin_client.post(ADD, add_form(QueueFactory(name="Chat", channels=["chat"])))

    assert response.status_code == 200 and not Inbox.objects.exists()
    assert "Queue &#x27;Chat&#x27; does not serve the email channel." in page(response)


def test_a_supervisor_reads_their_teams_inboxes_redacted_and_changes_nothing(supervisor_of):
    team, other = TeamFactory(name="Alpha"), TeamFactory(name="Bravo")
    own = InboxFactory(
        name="Alpha mail",
        queue=QueueFactory(team=team, channels=["email"]),
        settings={**InboxFactory.build().settings, "imap_url": IMAP_URL},
    )
    foreign = InboxFactory(name="Bravo mail", queue=QueueFactory(team=other, channels=["email"]))
    client = supervisor_of(team)

    listed = client.get(CHANGELIST)
    shown = client.get(change_url(own))

    assert "Alpha mail" in page(listed) and "Bravo mail" not in page(listed)
    assert shown.status_code == 200 and not shown.context["has_change_permission"]
    assert "imaps://support:***@mail.acme.test:993/INBOX" in page(shown)
    assert PASSWORD not in page(shown) and own.token not in page(shown)
    assert client.get(change_url(foreign)).status_code == 404
    assert client.get(ADD).status_code == 403
    assert client.post(change_url(own), {"name": "Mine"}).status_code == 403
    action = {"action": "issue_inbound_url", "_selected_action": [own.pk]}
    client.post(CHANGELIST, action)
    assert Inbox.objects.get(pk=own.pk).token == own.token and Inbox.objects.get(pk=own.pk).name == "Alpha mail"


def test_mark_reauthorised(admin_client):
    waiting = InboxFactory(state=InboxState.REAUTHORISE, state_detail="IMAP login refused")
    fine = InboxFactory()

    response = admin_client.post(
        CHANGELIST, {"action": "mark_reauthorised", "_selected_action": [waiting.pk, fine.pk]}, follow=True
    )

    assert "1 inbox marked re-authorised." in page(response)
    waiting.refresh_from_db()
    assert waiting.state == InboxState.ACTIVE and waiting.state_detail == ""


def test_issuing_a_new_inbound_url_shows_it_once_and_retires_the_old(admin_client, settings):
    settings.SWITCHBOARD_PUBLIC_URL = "https://help.acme.test/"
    inbox = InboxFactory()
    old = inbox.token

    response = admin_client.post(
        CHANGELIST, {"action": "issue_inbound_url", "_selected_action": [inbox.pk]}, follow=True
    )

    inbox.refresh_from_db()
    assert inbox.token != old
    assert f"https://help.acme.test/inbound/email/{inbox.token}/" in page(response)
    assert inbox.token not in page(admin_client.get(CHANGELIST))


def test_deleting_an_inbox_that_carried_work_is_refused_with_the_reason(admin_client):
    inbox = InboxFactory(name="Support")
    InteractionFactory(channel="email", queue=inbox.queue, inbox=inbox)
    delete = reverse("admin:crm_inbox_delete", args=[inbox.pk])

    confirmation = admin_client.get(delete)
    admin_client.post(delete, {"post": "yes"})

    assert "deactivate it instead" in page(confirmation)
    assert Inbox.objects.filter(pk=inbox.pk).exists()
    unused = InboxFactory()
    assert admin_client.post(reverse("admin:crm_inbox_delete", args=[unused.pk]), {"post": "yes"}).status_code == 302
    assert not Inbox.objects.filter(pk=unused.pk).exists()


def test_the_admin_logs_no_secret(admin_client, email_queue, caplog):
    caplog.set_level(logging.DEBUG)

    admin_client.post(ADD, add_form(email_queue))
    inbox = Inbox.objects.get()
    admin_client.post(change_url(inbox), posted_back(admin_client.get(change_url(inbox))) | {"name": "Renamed"})

    assert re.search(r"inbox \d+ created", caplog.text) and re.search(r"inbox \d+ changed: name", caplog.text)
    assert PASSWORD not in caplog.text and inbox.token not in caplog.text


# --- the delivery outbox ----------------------------------------------------------------------------------------------


def test_the_outbox_lists_deliveries_and_an_administrator_retries_a_failed_one(admin_client):
    work = email_work(email_inbox())
    failed, pending = delivery_of(reply(work, body="Lost")), delivery_of(reply(work, body="On its way"))
    Delivery.objects.filter(pk=failed.pk).update(status="failed", attempts=3, error="550 5.1.1 mailbox unknown")

    page = admin_client.get(reverse("admin:crm_delivery_changelist")).content.decode()
    assert "550 5.1.1 mailbox unknown" in page and f"#{work.pk}" in page

    changelist = reverse("admin:crm_delivery_changelist")
    admin_client.post(changelist, {"action": "retry", "_selected_action": [failed.pk, pending.pk]})

    failed.refresh_from_db()
    pending.refresh_from_db()
    assert (failed.status, failed.attempts, failed.error) == ("pending", 0, "")
    assert pending.attempts == 0 and pending.status == "pending"
