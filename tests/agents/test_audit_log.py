"""The one audit log (issue 16, item 4): every write path leaves one entry with who, from where and which fields
changed from what to what; the database refuses to rewrite it; supervisors read their teams' part; CSV export."""

import csv
import io
import json

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse

from agents.breaks import break_send_now
from agents.choices import AgentStatus
from agents.models import AuditEntry, SupervisorAction, Team
from agents.services import agent_set_status
from config.roles import ADMINISTRATOR_GROUP
from contacts.models import Customer
from crm.access.models import ApiKey
from crm.models import Queue
from tests.agents.factories import AgentFactory, TeamFactory, UserFactory
from tests.contacts.factories import CustomerFactory
from tests.crm.groups import default_groups

pytestmark = pytest.mark.django_db

ADDRESS = "203.0.113.9"


def entries_for(obj, **filters):
    return AuditEntry.objects.filter(content_type__model=obj._meta.model_name, object_id=str(obj.pk), **filters)


@pytest.fixture
def root(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def root_client(root):
    client = Client(REMOTE_ADDR=ADDRESS)
    client.force_login(root)
    return client


# --- admin ---------------------------------------------------------------------------------------------------


def test_admin_add_change_delete_are_each_one_entry_with_old_and_new_values(root, root_client):
    response = root_client.post(reverse("admin:agents_team_add"), {"name": "Billing", "description": "invoices"})
    assert response.status_code == 302, response.content
    team = Team.objects.get(name="Billing")
    (created,) = entries_for(team)
    assert (created.action, created.actor, created.actor_user_id, created.source) == (
        "create",
        "root",
        root.pk,
        "admin",
    )
    assert created.client_ip == ADDRESS
    assert created.changes["name"] == [None, "Billing"]
    assert created.team_id == team.pk

    response = root_client.post(
        reverse("admin:agents_team_change", args=[team.pk]), {"name": "Billing EU", "description": "invoices"}
    )
    assert response.status_code == 302, response.content
    (changed,) = entries_for(team, action="update")
    assert changed.changes == {"name": ["Billing", "Billing EU"]}

    response = root_client.post(reverse("admin:agents_team_delete", args=[team.pk]), {"post": "yes"})
    assert response.status_code == 302, response.content
    (deleted,) = entries_for(team, action="delete")
    assert deleted.object_repr == "Billing EU" and deleted.changes["name"] == ["Billing EU", None]


def test_admin_role_change_is_recorded_as_old_and_new_groups(root_client):
    default_groups()
    person = UserFactory(username="pat", is_staff=True)
    supervisor = Group.objects.get(name="Supervisor")
    url = reverse("admin:auth_user_change", args=[person.pk])
    form = {"username": "pat", "is_active": "on", "is_staff": "on", "groups": [supervisor.pk], "date_joined_0":
            "2026-01-01", "date_joined_1": "00:00:00", "initial-date_joined_0": "2026-01-01",
            "initial-date_joined_1": "00:00:00"}  # fmt: skip
    response = root_client.post(url, form)
    assert response.status_code == 302, response.content
    changes = [e.changes for e in entries_for(person, action="update")]
    assert {"groups": [[], [supervisor.pk]]} in changes
    assert all("password" not in json.dumps(c) or c.get("password") == "changed" for c in changes)


def test_admin_api_key_create_and_revoke_action_are_recorded_without_the_secret(root, root_client):
    response = root_client.post(reverse("admin:crm_apikey_add"), {"name": "PBX", "scopes": ["read", "write"]})
    assert response.status_code == 302, response.content
    key = ApiKey.objects.get(name="PBX")
    (created,) = entries_for(key)
    assert created.action == "create" and created.actor_user_id == root.pk
    assert created.changes["hashed_key"] == "changed"
    assert key.hashed_key not in json.dumps(created.changes)

    response = root_client.post(
        reverse("admin:crm_apikey_changelist"), {"action": "revoke", "_selected_action": [key.pk]}
    )
    assert response.status_code == 302, response.content
    key.refresh_from_db()
    (revoked,) = entries_for(key, action="revoke")
    assert revoked.changes["revoked_at"][0] is None and revoked.changes["revoked_at"][1] is not None
    assert revoked.client_ip == ADDRESS


def test_an_admin_action_that_changes_no_row_is_recorded_once(root_client):
    root_client.post(reverse("admin:agents_team_add"), {"name": "Night"})
    entry = AuditEntry.objects.get()
    response = root_client.post(
        reverse("admin:agents_auditentry_changelist"), {"action": "export_csv", "_selected_action": [entry.pk]}
    )
    assert response.status_code == 200
    (export,) = AuditEntry.objects.filter(action="export_csv")
    assert export.content_type.model == "auditentry" and export.actor == "root"
    assert export.changes == {"rows": 1}


# --- API -----------------------------------------------------------------------------------------------------


def test_api_create_update_delete_are_recorded_with_the_key_and_address(admin_client_api):
    key = admin_client_api.api_key
    response = admin_client_api.post("/api/v1/teams/", {"name": "Chat"}, format="json", REMOTE_ADDR=ADDRESS)
    assert response.status_code == 201, response.content
    team = Team.objects.get(name="Chat")
    (created,) = entries_for(team)
    assert (created.source, created.actor_api_key_id, created.client_ip) == ("api", key.pk, ADDRESS)
    assert created.actor == f"API key {key}"

    response = admin_client_api.patch(f"/api/v1/teams/{team.pk}/", {"name": "Chat EU"}, format="json")
    assert response.status_code == 200, response.content
    (updated,) = entries_for(team, action="update")
    assert updated.changes == {"name": ["Chat", "Chat EU"]}

    response = admin_client_api.delete(f"/api/v1/teams/{team.pk}/")
    assert response.status_code == 204, response.content
    assert entries_for(team, action="delete").count() == 1


def test_api_writes_on_customer_data_name_fields_but_never_store_values(admin_client_api):
    response = admin_client_api.post(
        "/api/v1/customers/", {"name": "Rosa Secret", "email": "rosa@example.com"}, format="json"
    )
    assert response.status_code == 201, response.content
    customer = Customer.objects.get(pk=response.json()["id"])
    (created,) = entries_for(customer)
    assert created.changes["name"] == "changed"
    assert created.object_repr == f"customer #{customer.pk}"
    dump = json.dumps(list(AuditEntry.objects.values()), default=str)
    assert "Rosa" not in dump and "rosa@example.com" not in dump


def test_a_read_and_an_anonymous_request_record_nothing(read_client, api_client):
    TeamFactory(name="Quiet")
    assert read_client.get("/api/v1/teams/").status_code == 200
    assert api_client.post("/api/v1/teams/", {"name": "X"}).status_code == 401
    assert not AuditEntry.objects.exists()


# --- management commands and supervisor actions ----------------------------------------------------------------


def test_management_commands_record_api_key_creation_and_revocation():
    out = io.StringIO()
    call_command("create_api_key", "--name", "Nightly", "--scopes", "read", stdout=out)
    key = ApiKey.objects.get(name="Nightly")
    (created,) = entries_for(key)
    assert created.source == "command" and created.actor.startswith("manage.py create_api_key")
    call_command("revoke_api_key", key.prefix, stdout=out)
    (revoked,) = entries_for(key, action="update")
    assert list(revoked.changes) == ["revoked_at"] and revoked.actor.startswith("manage.py revoke_api_key")


def test_the_project_commands_that_write_are_audited():
    from django.core.management import get_commands, load_command_class

    from config.audit import AuditedCommand

    ours = {name: app for name, app in get_commands().items() if app.split(".")[0] in {"crm", "agents", "contacts"}}
    # seed_demo fills an empty database with invented people: thousands of rows of no one's data.
    unaudited = {n for n, app in ours.items() if not isinstance(load_command_class(app, n), AuditedCommand)}
    assert unaudited == {"seed_demo"}


def test_a_supervisor_action_is_also_an_audit_entry(root, root_client):
    agent = AgentFactory(team=TeamFactory(name="Day"))
    agent_set_status(agent=agent, status=AgentStatus.AVAILABLE)
    brk = break_send_now(agent=agent, actor=None, reason="rest", enforce_cap=False)
    # outside any request (a beat task): the system's entry, on the agent, in the agent's team
    system = entries_for(agent, action="break_started").get()
    assert (system.source, system.actor, system.team_id) == ("system", "system", agent.team_id)

    response = root_client.post(
        reverse("admin:agents_break_changelist"), {"action": "end", "_selected_action": [brk.pk]}
    )
    assert response.status_code == 302, response.content
    assert SupervisorAction.objects.filter(agent=agent, kind="break_ended").exists()  # the agent's history
    ended = entries_for(brk, action="end").get()
    assert ended.actor_user_id == root.pk and ended.changes["status"][1] == "ended"
    mirrored = entries_for(agent, action="end", changes__detail__isnull=True)
    assert mirrored.exists()


# --- the database keeps it ---------------------------------------------------------------------------------------


def test_the_database_refuses_to_update_or_delete_an_entry(root_client):
    root_client.post(reverse("admin:agents_team_add"), {"name": "Kept"})
    entry = AuditEntry.objects.get()
    for sql in (
        "UPDATE agents_auditentry SET action = 'x' WHERE id = %s",
        "DELETE FROM agents_auditentry WHERE id = %s",
    ):
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [entry.pk])
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.get().action == "create"


def test_deleting_the_actor_keeps_the_entries(root_client):
    user = UserFactory(username="leaver", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    client.post(reverse("admin:agents_team_add"), {"name": "Left behind"})
    user.delete()
    assert AuditEntry.objects.filter(actor="leaver").count() == 1


# --- who reads it --------------------------------------------------------------------------------------------


def test_supervisors_read_their_teams_entries_and_their_own_actions(root_client):
    default_groups()
    alpha, bravo = TeamFactory(name="Alpha"), TeamFactory(name="Bravo")
    sup = UserFactory(username="sup-a", is_staff=True)
    sup.groups.add(Group.objects.get(name="Supervisor"))
    for team in (alpha, bravo):
        response = root_client.post(reverse("admin:agents_team_change", args=[team.pk]), {"name": team.name + " 2"})
        assert response.status_code == 302, response.content
    Queue.objects.create(name="Queue Alpha", team=alpha)  # outside any request: not on record
    alpha.supervisors.add(sup)
    sup_client = Client()
    sup_client.force_login(sup)
    sup_client.post(reverse("admin:agents_auditentry_changelist"), {"action": "export_csv", "select_across": "1",
                                                                      "_selected_action": [0]})  # fmt: skip
    page = sup_client.get(reverse("admin:agents_auditentry_changelist"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Alpha 2" in text and "Bravo" not in text
    assert "export_csv" in text  # their own action
    bravo_entry = AuditEntry.objects.get(team=bravo)
    assert sup_client.get(reverse("admin:agents_auditentry_change", args=[bravo_entry.pk])).status_code == 404

    administrator = UserFactory(username="chief", is_staff=True)
    administrator.groups.add(Group.objects.get(name=ADMINISTRATOR_GROUP))
    chief = Client()
    chief.force_login(administrator)
    assert "Bravo 2" in chief.get(reverse("admin:agents_auditentry_changelist")).content.decode()

    agent_user = UserFactory(username="plain-staff", is_staff=True)
    plain = Client()
    plain.force_login(agent_user)
    assert plain.get(reverse("admin:agents_auditentry_changelist")).status_code == 403


def test_csv_export_holds_who_what_and_the_changes(root_client):
    root_client.post(reverse("admin:agents_team_add"), {"name": "=SUM(A1)"}, REMOTE_ADDR=ADDRESS)
    response = root_client.post(
        reverse("admin:agents_auditentry_changelist"),
        {"action": "export_csv", "select_across": "1", "_selected_action": [0]},  # fmt: skip
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    (row,) = rows
    assert (row["actor"], row["action"], row["object_type"], row["client_ip"]) == ("root", "create", "team", ADDRESS)
    assert row["object"] == "'=SUM(A1)"  # inert: a spreadsheet shows it as text
    assert json.loads(row["changes"])["name"] == [None, "=SUM(A1)"]


def test_api_webhook_change_is_recorded_and_its_secret_never_stored(admin_client_api):
    secret = "s3cret-s3cret-s3cret"
    body = {"url": "https://93.184.216.34/hook", "events": ["*"], "secret": secret, "name": "CRM sync"}
    response = admin_client_api.post("/api/v1/webhooks/", body, format="json")
    assert response.status_code == 201, response.content
    (created,) = AuditEntry.objects.filter(content_type__model="webhook", object_id=str(response.json()["id"]))
    assert created.actor_api_key_id == admin_client_api.api_key.pk
    assert created.changes["secret"] == "changed" and created.changes["name"] == [None, "CRM sync"]
    assert secret not in json.dumps(list(AuditEntry.objects.values("changes", "object_repr")))


def test_api_export_and_erasure_requests_are_recorded_without_personal_data(admin_client_api):
    customer = CustomerFactory(name="Vera Private")
    response = admin_client_api.post(f"/api/v1/customers/{customer.pk}/export/", {}, format="json")
    assert response.status_code == 202, response.content
    response = admin_client_api.post(
        f"/api/v1/customers/{customer.pk}/erase/", {"reason": "Vera asked by phone"}, format="json"
    )
    assert response.status_code in (201, 202), response.content
    kinds = set(AuditEntry.objects.filter(action="create").values_list("content_type__model", flat=True))
    assert {"exportrequest", "erasurerequest"} <= kinds
    erasure = AuditEntry.objects.get(content_type__model="erasurerequest")
    assert erasure.changes["reason"] == "changed" and erasure.actor_api_key_id == admin_client_api.api_key.pk
    assert "Vera" not in json.dumps(list(AuditEntry.objects.values()), default=str)


def test_an_interaction_keeps_its_status_and_queue_on_record_but_not_its_subject_or_body(write_client):
    from tests.crm.factories import QueueFactory

    queue = QueueFactory(channels=["chat"])
    customer = CustomerFactory()
    response = write_client.post(
        "/api/v1/interactions/",
        {
            "channel": "chat",
            "customer": customer.pk,
            "queue": queue.pk,
            "subject": "Card 4111 blocked",
            "body": "my card 4111",
        },  # fmt: skip
        format="json",
    )
    assert response.status_code == 201, response.content
    (created,) = AuditEntry.objects.filter(content_type__model="interaction", action="create")
    assert created.changes["subject"] == "changed" and created.changes["channel"] == [None, "chat"]
    assert created.changes["customer"] == [None, customer.pk]
    assert created.team_id == queue.team_id
    assert "4111" not in json.dumps(list(AuditEntry.objects.values("changes", "object_repr")))


def test_secrets_inside_json_settings_are_masked_and_admin_business_belongs_to_no_team(root_client):
    from config.audit.recorder import _plain, team_of

    assert _plain({"account_sid": "AC1", "auth_token": "t0k", "nested": [{"api_key": "k"}]}) == {
        "account_sid": "AC1", "auth_token": "changed", "nested": [{"api_key": "changed"}]
    }  # fmt: skip
    key = ApiKey.objects.create(name="k", prefix="sb_x", hashed_key="0" * 64, scopes=["read"], team=TeamFactory())
    assert team_of(key) is None
