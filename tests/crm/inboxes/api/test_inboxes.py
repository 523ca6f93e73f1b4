"""``/api/v1/inboxes/``: connecting an inbox, its secrets never shown again, its inbound URL shown once."""

import json
import logging

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from crm.inboxes.models import Inbox, InboxState
from tests.agents.factories import TeamFactory, UserFactory
from tests.crm.factories import InteractionFactory, QueueFactory
from tests.crm.inboxes.factories import InboxFactory

pytestmark = pytest.mark.django_db

LIST = reverse("v1:crm-api:inbox-list")
PASSWORD = "Tr0ub4dor&3-imap"
SMTP_PASSWORD = "smtp-S3cret!"
IMAP_URL = f"imaps://support%40acme.test:{PASSWORD.replace('&', '%26')}@mail.acme.test:993/INBOX"
SMTP_URL = f"smtp://relay:{SMTP_PASSWORD.replace('!', '%21')}@smtp.acme.test:587?starttls=1"


def detail(pk) -> str:
    return reverse("v1:crm-api:inbox-detail", args=[pk])


@pytest.fixture
def email_queue():
    return QueueFactory(name="E-mail", channels=["email"])


def payload(queue, **overrides) -> dict:
    data = {
        "name": "Support",
        "channel": "email",
        "queue": queue.pk,
        "display_name": "Acme Support",
        "settings": {"address": "Support@Acme.test", "imap_url": IMAP_URL, "smtp_url": SMTP_URL},
    }
    return data | overrides


def assert_no_secret(text: str) -> None:
    for secret in (PASSWORD, SMTP_PASSWORD, "Tr0ub4dor", "S3cret"):
        assert secret not in text


# --- create -----------------------------------------------------------------------------------------------------


def test_create_answers_the_inbox_with_redacted_settings_and_its_inbound_url_once(
    admin_client_api, email_queue, settings
):
    settings.SWITCHBOARD_PUBLIC_URL = "https://help.acme.test/"

    response = admin_client_api.post(LIST, payload(email_queue), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    inbox = Inbox.objects.get()
    assert body["inbound_url"] == f"https://help.acme.test/inbound/email/{inbox.token}/"
    assert body["adapter"] == "email" and body["channel"] == "email" and body["queue"] == email_queue.pk
    assert body["state"] == "active" and body["state_detail"] == "" and body["is_active"] is True
    assert body["settings"]["address"] == "support@acme.test"
    assert body["settings"]["imap_url"] == "imaps://support%40acme.test:***@mail.acme.test:993/INBOX"
    assert body["settings"]["smtp_url"] == "smtp://relay:***@smtp.acme.test:587?starttls=1"
    assert_no_secret(response.content.decode())
    # stored whole, for the importer and the sender
    assert inbox.settings["imap_url"] == IMAP_URL and inbox.settings["smtp_url"] == SMTP_URL
    assert inbox.display_name == "Acme Support" == inbox.settings["display_name"]

    for shown in (admin_client_api.get(detail(inbox.pk)), admin_client_api.get(LIST)):
        text = shown.content.decode()
        assert shown.status_code == 200
        assert "inbound_url" not in text and inbox.token not in text and "/inbound/" not in text
        assert_no_secret(text)
    assert admin_client_api.get(detail(inbox.pk)).json()["settings"] == body["settings"]


def test_the_adapter_defaults_from_the_channel_and_can_be_named(admin_client_api, email_queue):
    body = admin_client_api.post(
        LIST, payload(email_queue, adapter="email", display_name="", settings={"address": "a@acme.test"}), format="json"
    ).json()

    assert body["adapter"] == "email" and body["display_name"] == ""
    assert body["settings"] == {
        "address": "a@acme.test",
        "display_name": "",
        "imap_url": "",
        "smtp_url": "",
        "message_id_domain": "switchboard.acme.test",
        "max_attachment_bytes": 10 * 1024 * 1024,
        "max_total_bytes": 25 * 1024 * 1024,
    }


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"settings": {"address": "a@acme.test", "imap_url": "imaps://mail.acme.test/INBOX"}}, "settings.imap_url",
         "the IMAP URL names no user (imaps://user:password@host/INBOX)"),
        ({"settings": {"address": "a@acme.test", "imap_url": "https://u:p@mail.acme.test/"}}, "settings.imap_url",
         "the URL must start with imap:// or imaps://"),
        ({"settings": {"imap_url": IMAP_URL}}, "settings.address",
         "a valid e-mail address is required (the support address)"),
        ({"settings": {"address": "a@acme.test", "colour": "red"}}, "settings.colour",
         "unknown setting for an e-mail inbox"),
        ({"settings": "address=a@acme.test"}, "settings", 'Expected a dictionary of items but got type "str".'),
        ({"settings": {"address": "a\x00@acme.test"}}, "settings.address", "Must not contain the NUL character."),
        ({"channel": "fax"}, "channel", '"fax" is not a valid choice.'),
        ({"adapter": "pigeon"}, "adapter", "Unknown adapter 'pigeon'; choose one of: "),  # …: bridge, email.
        ({"channel": "social"}, "adapter", "No adapter serves the social channel by default; name one of: "),
        ({"channel": "chat", "adapter": "email"}, "adapter", "The email adapter serves the email channel, not chat."),
        ({"name": "  "}, "name", "This field may not be blank."),
        ({"queue": 10**9}, "queue", 'Invalid pk "1000000000" - object does not exist.'),
    ],
)  # fmt: skip
def test_bad_input_is_a_field_message_and_creates_nothing(admin_client_api, email_queue, overrides, field, message):
    response = admin_client_api.post(LIST, payload(email_queue) | overrides, format="json")

    assert response.status_code == 400, response.json()
    assert [m for m in response.json()[field] if m.startswith(message)], response.json()
    assert not Inbox.objects.exists()
    assert_no_secret(response.content.decode())


def test_a_queue_that_does_not_serve_the_channel_is_refused(admin_client_api):
    chat_only = QueueFactory(name="Chat", channels=["chat"])
    inactive = QueueFactory(name="Old mail", channels=["email"], is_active=False)

    refused = admin_client_api.post(LIST, payload(chat_only), format="json")
    stopped = admin_client_api.post(LIST, payload(inactive), format="json")

    assert refused.status_code == 400 and refused.json() == {
        "queue": ["Queue 'Chat' does not serve the email channel."]
    }
    assert stopped.status_code == 400 and stopped.json() == {"queue": ["Queue 'Old mail' is not active."]}
    assert not Inbox.objects.exists()


def test_every_problem_is_named_in_one_answer(admin_client_api):
    response = admin_client_api.post(
        LIST,
        payload(QueueFactory(channels=["chat"]), settings={"address": "nope", "smtp_url": "smtp://"}),
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()) == {"queue", "settings.address", "settings.smtp_url"}


def test_a_bad_url_message_never_echoes_its_password(admin_client_api, email_queue):
    bad = f"smtp://relay:{SMTP_PASSWORD.replace('!', '%21')}@smtp.acme.test:notaport"

    response = admin_client_api.post(
        LIST, payload(email_queue, settings={"address": "a@acme.test", "smtp_url": bad}), format="json"
    )

    assert response.status_code == 400 and "settings.smtp_url" in response.json()
    assert_no_secret(response.content.decode())
    assert "smtp-S3cret%21" not in response.content.decode()


# --- change -------------------------------------------------------------------------------------------------------


def _created(client, queue) -> dict:
    response = client.post(LIST, payload(queue), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_sending_back_the_redacted_settings_keeps_the_stored_secrets(admin_client_api, email_queue):
    shown = _created(admin_client_api, email_queue)

    response = admin_client_api.patch(
        detail(shown["id"]), {"settings": shown["settings"] | {"address": "help@acme.test"}}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["settings"]["address"] == "help@acme.test"
    stored = Inbox.objects.get().settings
    assert stored["imap_url"] == IMAP_URL and stored["smtp_url"] == SMTP_URL and stored["address"] == "help@acme.test"


def test_settings_merge_a_new_secret_replaces_and_null_removes(admin_client_api, email_queue):
    shown = _created(admin_client_api, email_queue)
    new_imap = "imaps://support%40acme.test:n3w-pass@mail.acme.test:993/INBOX"

    response = admin_client_api.patch(
        detail(shown["id"]), {"settings": {"imap_url": new_imap, "smtp_url": None}}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["settings"]["imap_url"] == "imaps://support%40acme.test:***@mail.acme.test:993/INBOX"
    assert "n3w-pass" not in response.content.decode()
    stored = Inbox.objects.get().settings
    assert stored["imap_url"] == new_imap and stored["smtp_url"] == "" and stored["address"] == "support@acme.test"


def test_new_settings_end_a_reauthorisation_wait_a_new_name_does_not(admin_client_api, email_queue):
    shown = _created(admin_client_api, email_queue)
    Inbox.objects.update(state=InboxState.REAUTHORISE, state_detail="IMAP: authentication failed")

    renamed = admin_client_api.patch(detail(shown["id"]), {"name": "Help", "display_name": "Acme Help"}, format="json")
    assert renamed.json()["state"] == "reauthorise" and renamed.json()["state_detail"] == "IMAP: authentication failed"
    assert renamed.json()["display_name"] == "Acme Help" == renamed.json()["settings"]["display_name"]

    fixed = admin_client_api.patch(
        detail(shown["id"]),
        {"settings": {"imap_url": IMAP_URL.replace("Tr0ub4dor", "Correct-horse")}},
        format="json",
    )
    assert fixed.json()["state"] == "active" and fixed.json()["state_detail"] == ""


def test_patch_validates_like_create_and_changes_nothing_on_error(admin_client_api, email_queue):
    shown = _created(admin_client_api, email_queue)
    chat = QueueFactory(name="Chat", channels=["chat"])

    response = admin_client_api.patch(
        detail(shown["id"]),
        {"channel": "chat", "adapter": "bridge", "queue": chat.pk, "settings": {"address": "x"}, "name": "New"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "channel": ["An inbox's channel cannot change; create another inbox for the new one."],
        "adapter": ["An inbox's adapter cannot change; create another inbox for the new one."],
        "queue": ["Queue 'Chat' does not serve the email channel."],
        "settings.address": ["a valid e-mail address is required (the support address)"],
    }
    inbox = Inbox.objects.get()
    assert inbox.name == "Support" and inbox.queue == email_queue and inbox.settings["address"] == "support@acme.test"


def test_deactivating_and_moving_to_another_queue(admin_client_api, email_queue):
    shown = _created(admin_client_api, email_queue)
    other = QueueFactory(name="Billing mail", channels=["email", "chat"])

    response = admin_client_api.patch(detail(shown["id"]), {"is_active": False, "queue": other.pk}, format="json")

    assert response.status_code == 200
    assert response.json()["is_active"] is False and response.json()["queue"] == other.pk
    assert admin_client_api.get(LIST, {"is_active": "true"}).json()["results"] == []


def test_put_is_not_offered(admin_client_api):
    inbox = InboxFactory()
    assert admin_client_api.put(detail(inbox.pk), payload(inbox.queue), format="json").status_code == 405


# --- delete -------------------------------------------------------------------------------------------------------


def test_an_unused_inbox_is_deleted(admin_client_api):
    inbox = InboxFactory()

    assert admin_client_api.delete(detail(inbox.pk)).status_code == 204
    assert not Inbox.objects.exists()
    assert admin_client_api.get(detail(inbox.pk)).status_code == 404


def test_deleting_an_inbox_that_carried_work_is_refused_with_what_to_do(admin_client_api):
    inbox = InboxFactory(name="Support")
    work = InteractionFactory(channel="email", queue=inbox.queue, inbox=inbox)

    response = admin_client_api.delete(detail(inbox.pk))

    assert response.status_code == 409
    assert response.json() == {
        "detail": "Inbox 'Support' has carried interactions: deactivate it instead (is_active: false), "
        "so that history keeps its inbox.",
        "code": "inbox_in_use",
        "status": 409,
    }
    work.refresh_from_db()
    assert work.inbox == inbox
    assert admin_client_api.patch(detail(inbox.pk), {"is_active": False}, format="json").status_code == 200


# --- lists and who may --------------------------------------------------------------------------------------------


def test_list_filters_by_channel_and_activity_and_refuses_bad_values(admin_client_api):
    active, inactive = InboxFactory(name="A"), InboxFactory(name="B", is_active=False)

    def names(**query):
        response = admin_client_api.get(LIST, query)
        assert response.status_code == 200, response.json()
        return [row["name"] for row in response.json()["results"]]

    assert names() == ["A", "B"]
    assert names(is_active="false") == ["B"]
    assert names(channel="email", is_active="true") == ["A"]
    assert names(channel="chat") == []
    assert names(queue=inactive.queue_id) == ["B"]
    assert names(q="a") == ["A"]
    assert active.pk != inactive.pk
    assert admin_client_api.get(LIST, {"channel": "fax"}).status_code == 400
    assert admin_client_api.get(LIST, {"is_active": "maybe"}).status_code == 400


def test_the_list_costs_the_same_few_queries_for_many_inboxes(
    own_cache_generation, admin_client_api, django_assert_max_num_queries
):
    for _ in range(12):
        InboxFactory()
    with django_assert_max_num_queries(4):  # the key, its last use, the page
        response = admin_client_api.get(LIST)
    assert len(response.json()["results"]) == 12


def test_a_team_admin_key_reads_its_teams_inboxes_and_changes_none(key_client_factory):
    team, other = TeamFactory(), TeamFactory()
    own = InboxFactory(name="Own", queue=QueueFactory(team=team, channels=["email"]))
    shared = InboxFactory(name="Shared", queue=QueueFactory(team=None, channels=["email"]))
    foreign = InboxFactory(name="Foreign", queue=QueueFactory(team=other, channels=["email"]))
    client = key_client_factory(["admin"], team=team)

    assert [row["name"] for row in client.get(LIST).json()["results"]] == ["Own", "Shared"]
    assert client.get(detail(own.pk)).status_code == 200
    assert client.get(detail(foreign.pk)).status_code == 404
    refused = client.patch(detail(own.pk), {"name": "Mine"}, format="json")
    assert refused.status_code == 403 and "center-wide configuration" in refused.json()["detail"]
    assert client.post(LIST, payload(own.queue), format="json").status_code == 403
    assert client.delete(detail(own.pk)).status_code == 403
    assert client.delete(detail(foreign.pk)).status_code == 404
    assert Inbox.objects.filter(pk__in=[own.pk, shared.pk, foreign.pk]).count() == 3


def test_without_the_admin_scope_nothing_is_shown(key_client_factory):
    team = TeamFactory()
    inbox = InboxFactory(queue=QueueFactory(team=team, channels=["email"]))
    supervisor = UserFactory(is_staff=True)
    team.supervisors.add(supervisor)
    session = APIClient()
    session.force_login(supervisor)

    for client in (key_client_factory(["read", "write"]), session):
        response = client.get(LIST)
        assert response.status_code == 403 and response.json()["detail"] == "This request needs the 'admin' scope."
        assert client.get(detail(inbox.pk)).status_code == 403


def test_an_administrators_session_manages_inboxes(email_queue):
    client = APIClient()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    created = client.post(LIST, payload(email_queue), format="json")

    assert created.status_code == 201 and created.json()["inbound_url"].endswith(f"/{Inbox.objects.get().token}/")


def test_secrets_never_reach_the_logs(admin_client_api, email_queue, caplog):
    caplog.set_level(logging.DEBUG)

    shown = _created(admin_client_api, email_queue)
    admin_client_api.patch(detail(shown["id"]), {"settings": {"imap_url": IMAP_URL + "x"}}, format="json")
    admin_client_api.post(LIST, payload(email_queue, settings={"address": "x", "smtp_url": SMTP_URL}), format="json")
    admin_client_api.get(LIST)

    logged = caplog.text + json.dumps([record.args for record in caplog.records], default=str)
    assert "inbox" in caplog.text  # the service did log its changes
    assert_no_secret(logged)
    assert Inbox.objects.get().token not in logged


def test_the_import_setting_is_shown_changed_and_checked(admin_client_api, email_queue, client):
    shown = _created(admin_client_api, email_queue)
    assert "import" not in shown["settings"]  # immediate

    wrong = admin_client_api.patch(detail(shown["id"]), {"settings": {"import": "later"}}, format="json")
    changed = admin_client_api.patch(detail(shown["id"]), {"settings": {"import": "queued"}}, format="json")

    assert wrong.status_code == 400 and wrong.json() == {"settings.import": ["immediate or queued"]}
    assert changed.status_code == 200 and changed.json()["settings"]["import"] == "queued"
    inbox = Inbox.objects.get()
    raw = b"From: a@example.com\r\nTo: support@acme.test\r\nSubject: Hi\r\nMessage-ID: <q@example.com>\r\n\r\nHi\r\n"
    answer = client.generic("POST", f"/inbound/email/{inbox.token}/", raw, content_type="message/rfc822")
    assert answer.status_code == 202 and answer.json()["status"] == "queued"  # at once, in this process too
