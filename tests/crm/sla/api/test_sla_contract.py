"""The SLA part of the integrators' contract: policies with flat targets and escalation steps, calendars,
and the interaction's ``sla`` block."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.choices import InteractionStatus
from crm.interactions.models import Interaction
from crm.sla.models import BusinessHours, BusinessHoursPeriod, SLAPolicy, SLATarget
from tests.crm.factories import QueueFactory, SLAPolicyFactory, SLATargetFactory, interaction_in_status

pytestmark = pytest.mark.django_db

POLICIES = reverse("v1:crm-api:sla-policy-list")
CALENDARS = reverse("v1:crm-api:business-hours-list")


def policy_url(pk) -> str:
    return reverse("v1:crm-api:sla-policy-detail", args=[pk])


def calendar_url(pk) -> str:
    return reverse("v1:crm-api:business-hours-detail", args=[pk])


def office(**overrides) -> dict:
    data = {
        "name": "Office",
        "time_zone": "Europe/Berlin",
        "periods": [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)],
        "holidays": [{"date": "2026-12-25", "name": "Christmas", "recurring": True}],
    }
    return data | overrides


def contract(**overrides) -> dict:
    data = {
        "name": "Gold",
        "channel": "chat",
        "priority": None,
        "first_response_seconds": 60,
        "next_response_seconds": 120,
        "resolution_seconds": 3600,
        "business_hours": None,
        "escalation_steps": [
            {"target": "first_response", "action": "warn", "at": 0.8},
            {"target": "resolution", "action": "notify_supervisors", "after_seconds": 600},
        ],
        "pause_on_hold": True,
    }
    return data | overrides


# --- calendars ---------------------------------------------------------------------------------------------------


def test_create_a_calendar_with_periods_and_holidays(admin_client_api):
    response = admin_client_api.post(CALENDARS, office(), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["time_zone"] == "Europe/Berlin"
    assert body["periods"][0] == {"weekday": 0, "start": "09:00", "end": "17:00"}
    assert body["holidays"] == [{"date": "2026-12-25", "name": "Christmas", "recurring": True}]
    assert BusinessHoursPeriod.objects.count() == 5


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param(office(time_zone="Mars/Olympus"), "time_zone", id="unknown-time-zone"),
        pytest.param(office(time_zone="CET+1"), "time_zone", id="not-iana"),
        pytest.param(office(periods=[]), "periods", id="no-period"),
        pytest.param(office(periods=[{"weekday": 7, "start": "09:00", "end": "17:00"}]), "periods", id="weekday-7"),
        pytest.param(office(periods=[{"weekday": 0, "start": "09:00", "end": "09:00"}]), "periods", id="empty"),
        pytest.param(office(periods=[{"weekday": 0, "start": "9am", "end": "17:00"}]), "periods", id="bad-time"),
        pytest.param(
            office(holidays=[{"date": "2026-12-25"}, {"date": "2026-12-25"}]), "holidays", id="repeated-holiday"
        ),
        pytest.param(office(colour="blue"), "colour", id="unknown-field"),
    ],
)
def test_a_bad_calendar_is_400_with_field_messages_and_writes_nothing(admin_client_api, body, field):
    response = admin_client_api.post(CALENDARS, body, format="json")

    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert BusinessHours.objects.count() == 0


def test_a_calendar_in_use_cannot_be_deleted(admin_client_api):
    calendar_id = admin_client_api.post(CALENDARS, office(), format="json").json()["id"]
    admin_client_api.post(POLICIES, contract(business_hours=calendar_id), format="json")

    response = admin_client_api.delete(calendar_url(calendar_id))

    assert response.status_code == 409
    assert "Gold" in response.json()["detail"]


def test_calendar_writes_need_the_admin_scope(read_client):
    assert read_client.post(CALENDARS, office(), format="json").status_code == 403
    assert read_client.get(CALENDARS).status_code == 200


# --- policies ----------------------------------------------------------------------------------------------------


def test_create_a_policy_with_the_contracts_flat_fields(admin_client_api):
    calendar_id = admin_client_api.post(CALENDARS, office(), format="json").json()["id"]

    response = admin_client_api.post(POLICIES, contract(business_hours=calendar_id), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    for name, value in contract(business_hours=calendar_id).items():
        assert body[name] == value, name
    assert body["targets"] == []  # the flat fields are the default target, not an override
    target = SLATarget.objects.get()
    assert (target.is_default, target.channel, target.first_response_seconds) == (True, "chat", 60)


def test_flat_fields_and_overrides_live_side_by_side(admin_client_api):
    overrides = [{"channel": "email", "priority": None, "first_response_seconds": 3600}]

    response = admin_client_api.post(POLICIES, contract(channel="", targets=overrides), format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["channel"] == ""
    assert [t["channel"] for t in response.json()["targets"]] == ["email"]
    assert SLATarget.objects.count() == 2


def test_patch_merges_flat_fields_over_the_default_target_and_keeps_overrides(admin_client_api):
    pk = admin_client_api.post(
        POLICIES,
        contract(targets=[{"channel": "email", "priority": None, "first_response_seconds": 3600}]),
        format="json",
    ).json()["id"]

    response = admin_client_api.patch(policy_url(pk), {"resolution_seconds": 7200}, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["first_response_seconds"], body["resolution_seconds"]) == (60, 7200)
    assert [t["channel"] for t in body["targets"]] == ["email"]


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        pytest.param([{"target": "first_response", "action": "warn"}], "exactly one of at", id="no-at"),
        pytest.param([{"target": "first_response", "action": "warn", "at": 1.5}], "", id="at-over-1"),
        pytest.param([{"target": "first_response", "action": "warn", "at": 0}], "greater than 0", id="at-0"),
        pytest.param(
            [{"target": "first_response", "action": "warn", "at": 0.5, "after_seconds": 5}],
            "exactly one",
            id="at-and-after",
        ),
        pytest.param([{"target": "lunch", "action": "warn", "at": 0.5}], "", id="unknown-target"),
        pytest.param([{"target": "resolution", "action": "dance", "at": 0.5}], "", id="unknown-action"),
        pytest.param([{"target": "resolution", "action": "move_to_queue", "at": 1}], "needs queue", id="no-queue"),
        pytest.param(
            [{"target": "resolution", "action": "move_to_queue", "at": 1, "queue": 999_999}],
            "does not exist",
            id="unknown-queue",
        ),
        pytest.param([{"target": "resolution", "action": "warn", "at": 1, "queue": 1}], "only move", id="stray-queue"),
        pytest.param([{"target": "resolution", "action": "warn", "at": 1, "when": "now"}], "", id="unknown-field"),
        pytest.param(["warn at 80 %"], "", id="not-an-object"),
        pytest.param({"target": "resolution"}, "", id="not-a-list"),
    ],
)
def test_bad_escalation_steps_are_400_with_field_messages(admin_client_api, steps, message):
    response = admin_client_api.post(POLICIES, contract(escalation_steps=steps), format="json")

    assert response.status_code == 400, response.json()
    assert "escalation_steps" in response.json()
    assert message in str(response.json()["escalation_steps"])
    assert SLAPolicy.objects.count() == 0


def test_a_move_step_names_an_existing_queue(admin_client_api):
    queue = QueueFactory(name="Escalations")
    steps = [{"target": "first_response", "action": "move_to_queue", "at": 1, "queue": queue.pk}]

    response = admin_client_api.post(POLICIES, contract(escalation_steps=steps), format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["escalation_steps"] == [
        {"target": "first_response", "action": "move_to_queue", "at": 1.0, "queue": queue.pk}
    ]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"business_hours": 999_999}, "business_hours", id="unknown-calendar"),
        pytest.param({"first_response_seconds": None}, "first_response_seconds", id="null-first-response"),
        pytest.param({"resolution_seconds": 30}, "resolution_seconds", id="resolution-before-first"),
        pytest.param({"channel": "fax"}, "channel", id="unknown-channel"),
        pytest.param(
            {"targets": [{"channel": "chat", "priority": None, "first_response_seconds": 5}]},
            "targets",
            id="override-repeats-the-default",
        ),
    ],
)
def test_bad_flat_fields_are_400(admin_client_api, overrides, field):
    response = admin_client_api.post(POLICIES, contract(**overrides), format="json")

    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert SLAPolicy.objects.count() == 0


def test_a_queue_refers_to_a_policy_by_sla_policy(admin_client_api):
    pk = admin_client_api.post(POLICIES, contract(), format="json").json()["id"]

    response = admin_client_api.post(
        reverse("v1:crm-api:queue-list"), {"name": "Chat", "channels": ["chat"], "sla_policy": pk}, format="json"
    )

    assert response.status_code == 201, response.json()
    assert response.json()["sla_policy"] == pk


# --- the interaction's sla block ---------------------------------------------------------------------------------


def test_the_interaction_shows_due_times_remaining_breached_and_paused(read_client):
    policy = SLAPolicyFactory(pause_on_hold=True)
    SLATargetFactory(policy=policy, channel="chat", first_response_seconds=60, resolution_seconds=3600)
    interaction = interaction_in_status(
        InteractionStatus.ON_HOLD, queue=QueueFactory(channels=["chat"], sla_policy=policy)
    )
    Interaction.objects.filter(pk=interaction.pk).update(
        first_response_due_at=timezone.now() - timedelta(seconds=30), sla_paused_at=timezone.now()
    )

    sla = read_client.get(f"/api/v1/interactions/{interaction.pk}").json()["sla"]

    assert set(sla) == {
        "first_response_due_at",
        "next_response_due_at",
        "resolution_due_at",
        "remaining_seconds",
        "breached",
        "paused",
    }
    assert sla["breached"] == ["first_response"]
    assert sla["paused"] is True
    assert sla["next_response_due_at"] is None
    assert -35 < sla["remaining_seconds"]["first_response"] < 0
    assert 3000 < sla["remaining_seconds"]["resolution"] <= 3600
