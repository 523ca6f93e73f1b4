"""The inbox services and selectors: defaults, the settings merge, deletion of used inboxes, the inbound URL."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from agents.access import viewer_for
from config.errors import DomainError
from crm.inboxes.adapters import base as adapters_base
from crm.inboxes.adapters import register_adapter
from crm.inboxes.adapters.email import EmailAdapter
from crm.inboxes.models import Delivery, InboundReceipt, Inbox, InboxState
from crm.inboxes.selectors import inbox_inbound_url, inbox_list, inbox_redacted_settings
from crm.inboxes.services.inboxes import (
    inbox_create,
    inbox_delete,
    inbox_mark_reauthorised,
    inbox_merge_settings,
    inbox_rotate_token,
    inbox_update,
)
from crm.interactions.models import Interaction
from crm.routing.models import Queue
from tests.agents.factories import TeamFactory
from tests.crm.factories import InteractionFactory, MessageFactory, QueueFactory
from tests.crm.inboxes.factories import InboxFactory
from tests.crm.inboxes.test_adapters import EchoAdapter

pytestmark = pytest.mark.django_db

SECRET_URL = "imaps://me:s3cr3t@mail.acme.test/INBOX"


class LineAdapter(EchoAdapter):
    """A generic adapter (no channel of its own) with its own inbound path, as a provider plug-in would have."""

    channel = "line"
    inbound_path = "/inbound/line/{token}/hook"

    @classmethod
    def redact_settings(cls, settings):
        return {key: "***" if key == "api_token" else value for key, value in settings.items()}


@pytest.fixture
def registry():
    saved = dict(adapters_base._REGISTRY)
    register_adapter("line", LineAdapter)
    yield
    adapters_base._REGISTRY.clear()
    adapters_base._REGISTRY.update(saved)


@pytest.fixture
def email_queue() -> Queue:
    return QueueFactory(channels=["email"])


def test_create_cleans_the_settings_and_keeps_the_display_name_in_them(email_queue):
    inbox = inbox_create(
        name="  Support   desk ",
        channel="email",
        queue=email_queue,
        settings={"address": "Help@Acme.test", "display_name": "  Acme   help "},
    )

    assert inbox.name == "Support desk" and inbox.adapter == "email"
    assert inbox.display_name == "Acme help" == inbox.settings["display_name"]
    assert inbox.settings["message_id_domain"] == "switchboard.acme.test"
    renamed = inbox_update(inbox=inbox, data={"display_name": "Acme Care"})
    assert renamed.display_name == "Acme Care" == Inbox.objects.get().settings["display_name"]


def test_a_generic_adapter_serves_any_channel_and_names_its_own_inbound_path(registry, settings):
    settings.SWITCHBOARD_PUBLIC_URL = "https://acme.test/switchboard/"
    queue = QueueFactory(channels=["sms"])

    inbox = inbox_create(name="Texts", channel="sms", adapter="line", queue=queue, settings={"api_token": "t0k3n"})

    assert inbox_inbound_url(inbox) == f"https://acme.test/switchboard/inbound/line/{inbox.token}/hook"
    assert inbox_redacted_settings(inbox) == {"api_token": "***"}


def test_the_inbound_url_of_an_email_inbox_sits_on_the_public_url(settings):
    settings.SWITCHBOARD_PUBLIC_URL = "https://acme.test/switchboard"
    inbox = InboxFactory()

    assert inbox_inbound_url(inbox) == f"https://acme.test/switchboard/inbound/email/{inbox.token}/"


def test_an_inbox_whose_adapter_is_gone_shows_only_its_setting_names(registry):
    inbox = InboxFactory(channel="sms", adapter="retired", settings={"api_token": "t0k3n", "from": "+4930"})

    assert inbox_redacted_settings(inbox) == {"api_token": "***", "from": "***"}
    assert inbox_inbound_url(inbox).endswith(f"/inbound/retired/{inbox.token}/")


def test_merge_keeps_secrets_sent_back_redacted_and_nothing_else():
    stored = EmailAdapter.validate_settings({"address": "a@acme.test", "imap_url": SECRET_URL})
    shown = EmailAdapter.redact_settings(stored)

    assert inbox_merge_settings(adapter_class=EmailAdapter, stored=stored, sent=shown) == stored
    assert inbox_merge_settings(adapter_class=EmailAdapter, stored=stored, sent={"imap_url": None}) == {
        key: value for key, value in stored.items() if key != "imap_url"
    }
    other = "imaps://me:***@other.acme.test/INBOX"  # redacted-looking, but not what was shown: taken as sent
    assert (
        inbox_merge_settings(adapter_class=EmailAdapter, stored=stored, sent={"imap_url": other})["imap_url"] == other
    )


def test_a_redacted_value_without_a_stored_secret_is_taken_literally(email_queue):
    inbox = inbox_create(name="S", channel="email", queue=email_queue, settings={"address": "a@acme.test"})

    inbox_update(inbox=inbox, data={"settings": {"imap_url": "imaps://me:***@mail.acme.test/INBOX"}})

    assert Inbox.objects.get().settings["imap_url"] == "imaps://me:***@mail.acme.test/INBOX"


def test_settings_of_another_shape_are_refused_on_update(email_queue):
    inbox = InboxFactory(queue=email_queue)

    with pytest.raises(ValidationError) as refused:
        inbox_update(inbox=inbox, data={"settings": ["address", "x@acme.test"]})

    assert refused.value.message_dict == {"settings": ["The settings are an object of the adapter's settings."]}


@pytest.mark.parametrize("use", ["message", "delivery", "receipt"])
def test_an_inbox_that_carried_anything_is_not_deleted(use):
    inbox = InboxFactory(name="Support")
    now = timezone.now()
    if use == "message":
        MessageFactory(interaction=InteractionFactory(channel="email", queue=inbox.queue), inbox=inbox)
    elif use == "delivery":
        message = MessageFactory(interaction=InteractionFactory(channel="email", queue=inbox.queue))
        Delivery.objects.create(message=message, inbox=inbox, next_attempt_at=now, created_at=now)
    else:
        InboundReceipt.objects.create(inbox=inbox, key="<a@b>", status="noise", received_at=now)

    with pytest.raises(DomainError, match="deactivate it instead") as refused:
        inbox_delete(inbox=inbox)

    assert refused.value.code == "inbox_in_use"
    assert Inbox.objects.filter(pk=inbox.pk).exists()


def test_mark_reauthorised_and_a_new_token():
    inbox = InboxFactory(state=InboxState.REAUTHORISE, state_detail="XOAUTH2 token revoked")
    old_url = inbox_inbound_url(inbox)

    assert inbox_mark_reauthorised(inbox=inbox) is True
    assert inbox_mark_reauthorised(inbox=inbox) is False
    rotated = inbox_rotate_token(inbox=inbox)

    stored = Inbox.objects.get()
    assert stored.state == InboxState.ACTIVE and stored.state_detail == ""
    assert stored.token == rotated.token and inbox_inbound_url(stored) != old_url


def test_team_viewers_see_the_inboxes_of_the_queues_they_see():
    team = TeamFactory()
    own = InboxFactory(queue=QueueFactory(team=team, channels=["email"]))
    shared = InboxFactory(queue=QueueFactory(team=None, channels=["email"]))
    InboxFactory(queue=QueueFactory(team=TeamFactory(), channels=["email"]))

    class Key:
        pk, team_id = 1, team.pk

    assert set(inbox_list(viewer=viewer_for(api_key=Key()))) == {own, shared}
    assert inbox_list(viewer=viewer_for(api_key=type("Unbound", (), {"pk": 2, "team_id": None})())).count() == 3


@pytest.mark.django_db(transaction=True)
def test_work_written_while_its_inbox_is_deleted_fails_rather_than_losing_its_inbox():
    """The delete cannot see work not committed yet; that work then fails at its commit (the foreign key), so no
    interaction ever points at a deleted inbox or silently loses it: the importer records a failed import."""
    inbox = InboxFactory()
    started, finish, outcome = threading.Event(), threading.Event(), {}

    def write_work():
        try:
            with transaction.atomic():
                InteractionFactory(channel="email", queue=inbox.queue, inbox=inbox, subject="racing")
                started.set()
                finish.wait(5)
            outcome["writer"] = "committed"
        except IntegrityError:
            outcome["writer"] = "refused"
        finally:
            connection.close()

    writer = threading.Thread(target=write_work)
    writer.start()
    assert started.wait(5)
    inbox_delete(inbox=inbox)  # unused as far as anyone can see
    finish.set()
    writer.join(5)

    assert outcome == {"writer": "refused"}
    assert not Inbox.objects.filter(pk=inbox.pk).exists()
    assert not Interaction.objects.filter(subject="racing").exists()
