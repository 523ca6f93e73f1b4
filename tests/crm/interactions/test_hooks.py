"""The core's hook list is filled in one fixed order, once, and the concerns' work happens in the move's transaction."""

import pytest
from django.apps import apps
from django.db import transaction

from crm.choices import InteractionStatus
from crm.interactions import hooks
from crm.interactions import services as lifecycle
from crm.routing import hooks as routing_hooks
from crm.surveys.models import Survey
from crm.webhooks.models import WebhookDelivery
from tests.crm.factories import QueueFactory, WebhookFactory, interaction_in_status

pytestmark = pytest.mark.django_db


def names(hook) -> list[str]:
    return [f"{handler.__module__}.{handler.__qualname__}" for handler in hook.handlers]


def test_the_concerns_register_their_handlers_in_a_fixed_order():
    assert names(hooks.interaction_saving) == ["crm.sla.hooks.refresh_due_times"]
    assert names(hooks.events_logged) == [
        "crm.webhooks.hooks.emit_interaction_webhooks",
        "crm.surveys.hooks.schedule_survey_on_resolution",
    ]
    assert names(hooks.message_saving) == ["crm.inboxes.hooks.mark_delivery_pending"]
    assert names(hooks.message_saved) == [
        "crm.inboxes.hooks.enqueue_delivery",
        "crm.inboxes.hooks.claim_files",
        "crm.inboxes.services.inbound.note_message_written",
        "crm.webhooks.hooks.emit_message_webhooks",
    ]
    assert names(hooks.queue_for_channel) == ["crm.routing.hooks.default_queue_for_channel"]
    assert names(routing_hooks.queue_changed) == ["crm.sla.hooks.recompute_on_policy_change"]


def test_a_second_ready_registers_nothing_twice():
    before = [names(hook) for hook in (*hooks.HOOKS, routing_hooks.queue_changed)]
    apps.get_app_config("crm").ready()
    assert [names(hook) for hook in (*hooks.HOOKS, routing_hooks.queue_changed)] == before


def test_a_resolution_writes_its_webhook_delivery_then_its_survey():
    WebhookFactory(events=["interaction.resolved"])
    interaction = interaction_in_status(InteractionStatus.ACTIVE, queue=QueueFactory(channels=["chat"]))
    lifecycle.interaction_resolve(interaction=interaction)
    delivery = WebhookDelivery.objects.get(event_type="interaction.resolved")
    survey = Survey.objects.get(interaction=interaction)
    assert delivery.created_at <= survey.created_at


def test_what_the_hooks_wrote_rolls_back_with_the_move():
    WebhookFactory(events=["interaction.resolved"])
    interaction = interaction_in_status(InteractionStatus.ACTIVE, queue=QueueFactory(channels=["chat"]))
    with pytest.raises(RuntimeError), transaction.atomic():
        lifecycle.interaction_resolve(interaction=interaction)
        assert Survey.objects.filter(interaction=interaction).exists()
        raise RuntimeError("the caller's transaction fails after the move")
    assert not Survey.objects.filter(interaction=interaction).exists()
    assert not WebhookDelivery.objects.filter(event_type="interaction.resolved").exists()
    interaction.refresh_from_db()
    assert interaction.status == InteractionStatus.ACTIVE
