import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from tests.agents.factories import UserFactory
from tests.contacts.factories import CustomerFactory, NoteFactory
from tests.crm.factories import InteractionFactory
from tests.crm.groups import default_groups

pytestmark = pytest.mark.django_db

migration = importlib.import_module("crm.migrations.0002_default_groups")
downward = importlib.import_module("crm.migrations.0012_supervisor_privilege_downward")


@pytest.fixture(autouse=True)
def groups(db):
    default_groups()


def perms(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def staff_in(group_name: str) -> Client:
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    client = Client()
    client.force_login(user)
    client.user = user
    return client


def test_supervisor_group_runs_its_teams_but_deletes_only_light_rows():
    granted = perms("Supervisor")

    for app_model in [
        "contacts.customer",
        "contacts.organization",
        "contacts.contactidentity",
        "agents.agent",
        "crm.queue",
        "crm.interaction",
        "crm.message",
        "crm.survey",
    ]:
        app, model = app_model.split(".")
        assert {f"{app}.view_{model}", f"{app}.add_{model}", f"{app}.change_{model}"} <= granted
        assert f"{app}.delete_{model}" not in granted
    assert {"agents.view_team", "agents.view_agentstatuslog", "crm.view_interactionevent"} <= granted
    assert {"agents.change_team", "agents.add_team"}.isdisjoint(granted)
    assert {p for p in granted if ".delete_" in p} == {
        "contacts.delete_note",
        "agents.delete_agentskill",
        "crm.delete_queueskill",
        "crm.delete_surveysuppressionrule",
    }
    assert "crm.add_surveysuppressionrule" in granted


def test_supervisor_group_holds_nothing_of_administrators_and_only_reads_center_wide_set_up():
    granted = perms("Supervisor")

    assert {p for p in granted if p.split(".")[1].split("_", 1)[1] in ("apikey", "webhook", "webhookdelivery")} == set()
    assert {"crm.view_deadletter", "crm.view_idempotencyrecord", "auth.view_user", "auth.view_group"}.isdisjoint(
        granted
    )
    for app, model in [
        ("crm", "slapolicy"),
        ("crm", "slatarget"),
        ("crm", "businesshours"),
        ("agents", "skill"),
        ("agents", "trainingcourse"),
        ("crm", "scorecard"),
        ("crm", "scorecardcriterion"),
    ]:
        assert f"{app}.view_{model}" in granted
        assert {f"{app}.add_{model}", f"{app}.change_{model}", f"{app}.delete_{model}"}.isdisjoint(granted)


def test_agent_group_looks_up_and_writes_notes_and_messages():
    assert perms("Agent") == {
        "contacts.view_customer",
        "contacts.change_customer",
        "contacts.view_organization",
        "contacts.view_contactidentity",
        "contacts.view_note",
        "contacts.add_note",
        "agents.view_skill",
        "crm.view_queue",
        "crm.view_interaction",
        "crm.view_message",
        "crm.add_message",
    }


def test_supervisor_opens_the_interaction_changelist():
    InteractionFactory()
    client = staff_in("Supervisor")

    assert client.get(reverse("admin:crm_interaction_changelist")).status_code == 200
    assert client.get(reverse("admin:crm_apikey_add")).status_code == 403


def test_agent_cannot_delete_a_customer_nor_change_queues():
    customer = CustomerFactory()
    NoteFactory(customer=customer)
    client = staff_in("Agent")

    assert not client.user.has_perm("contacts.delete_customer")
    assert client.get(reverse("admin:contacts_customer_delete", args=[customer.pk])).status_code == 403
    assert (
        client.post(reverse("admin:contacts_customer_delete", args=[customer.pk]), {"post": "yes"}).status_code == 403
    )
    assert customer.__class__.objects.filter(pk=customer.pk).exists()
    assert client.get(reverse("admin:crm_queue_add")).status_code == 403
    assert client.get(reverse("admin:crm_interaction_changelist")).status_code == 200


def test_groups_migration_is_reversible():
    migration.remove_groups(apps, None)
    assert not Group.objects.filter(name__in=["Supervisor", "Agent"]).exists()

    migration.create_groups(apps, None)
    migration.create_groups(apps, None)  # idempotent

    assert len(perms("Supervisor")) == 53 and len(perms("Agent")) == 11


def test_privilege_downward_migration_is_reversible():
    before = perms("Supervisor")

    downward.backwards(apps, None)
    assert {"crm.add_apikey", "crm.view_webhook", "agents.change_skill"} <= perms("Supervisor")
    assert "crm.view_businesshours" not in perms("Supervisor")

    downward.forwards(apps, None)
    downward.forwards(apps, None)  # idempotent
    assert perms("Supervisor") == before
