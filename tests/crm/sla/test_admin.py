"""The SLA admin: policies, calendars, escalation steps, and the SLA state on an interaction's pages."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crm.choices import InteractionStatus
from crm.interactions.models import Interaction
from crm.sla.models import BusinessHours, Escalation, SLAPolicy, SLATarget
from tests.crm.admin_pages import make, url
from tests.crm.factories import QueueFactory, SLAPolicyFactory, interaction_in_status

pytestmark = pytest.mark.django_db


def test_sla_policy_with_two_catch_all_targets_is_a_form_error(admin_client):
    data = {
        "name": "Gold",
        "description": "",
        "is_active": "on",
        "targets-TOTAL_FORMS": "2",
        "targets-INITIAL_FORMS": "0",
    }
    for i in range(2):
        data |= {f"targets-{i}-channel": "", f"targets-{i}-priority": "", f"targets-{i}-first_response_seconds": "60"}

    response = admin_client.post(url(SLAPolicy, "add"), data)

    assert response.status_code == 200
    assert SLAPolicy.objects.count() == 0 and SLATarget.objects.count() == 0


def test_sla_policy_in_use_cannot_be_deleted_from_the_admin(admin_client):
    policy = SLAPolicyFactory()
    QueueFactory(sla_policy=policy)

    admin_client.post(url(SLAPolicy, "delete", policy.pk), {"post": "yes"})

    assert SLAPolicy.objects.filter(pk=policy.pk).exists()


def test_business_hours_add_with_periods_and_holidays_inline(admin_client):
    data = {
        "name": "Office",
        "time_zone": "Europe/Berlin",
        "periods-TOTAL_FORMS": "1",
        "periods-INITIAL_FORMS": "0",
        "periods-0-weekday": "0",
        "periods-0-start": "09:00",
        "periods-0-end": "17:00",
        "holidays-TOTAL_FORMS": "1",
        "holidays-INITIAL_FORMS": "0",
        "holidays-0-date": "2026-12-25",
        "holidays-0-name": "Christmas",
        "holidays-0-recurring": "on",
    }

    response = admin_client.post(url(BusinessHours, "add"), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    calendar = BusinessHours.objects.get()
    assert calendar.periods.count() == 1 and calendar.holidays.get().recurring is True


@pytest.mark.parametrize(
    ("overrides", "error"),
    [({"time_zone": "Mars/Olympus"}, "IANA"), ({"periods-TOTAL_FORMS": "0"}, "at least one open period")],
)
def test_business_hours_add_refuses_a_bad_zone_or_no_period(admin_client, overrides, error):
    data = {
        "name": "Office",
        "time_zone": "Europe/Berlin",
        "periods-TOTAL_FORMS": "1",
        "periods-INITIAL_FORMS": "0",
        "periods-0-weekday": "0",
        "periods-0-start": "09:00",
        "periods-0-end": "17:00",
        "holidays-TOTAL_FORMS": "0",
        "holidays-INITIAL_FORMS": "0",
    } | overrides

    response = admin_client.post(url(BusinessHours, "add"), data)

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not BusinessHours.objects.exists()


def test_sla_policy_admin_refuses_bad_escalation_steps(admin_client):
    data = {
        "name": "Gold",
        "description": "",
        "is_active": "on",
        "escalation_steps": '[{"target": "first_response", "action": "dance", "at": 0.8}]',
        "targets-TOTAL_FORMS": "1",
        "targets-INITIAL_FORMS": "0",
        "targets-0-channel": "",
        "targets-0-priority": "",
        "targets-0-first_response_seconds": "60",
    }

    response = admin_client.post(url(SLAPolicy, "add"), data)

    assert response.status_code == 200
    assert "Step 1: action must be one of" in response.content.decode()
    assert not SLAPolicy.objects.exists()


def test_interaction_admin_shows_sla_state_and_escalations(admin_client):
    interaction = interaction_in_status(InteractionStatus.QUEUED)
    Interaction.objects.filter(pk=interaction.pk).update(first_response_due_at=timezone.now() - timedelta(minutes=1))
    make(Escalation).interaction  # noqa: B018  (another interaction's escalation)
    Escalation.objects.create(
        interaction=interaction,
        target="first_response",
        clock_started_at=interaction.created_at,
        step=0,
        kind="breach",
        due_at=interaction.created_at,
        created_at=interaction.created_at,
        outcome="breach recorded",
    )

    listing = admin_client.get(url(Interaction, "changelist")).content.decode()
    page = admin_client.get(url(Interaction, "change", interaction.pk)).content.decode()

    assert "breached: first response" in listing
    assert "breached: first response" in page and "breach recorded" in page
