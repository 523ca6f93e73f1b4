"""The interaction admin: added through the lifecycle, described but not moved, messages through the message
service, the lifecycle actions; messages and events read-only."""

import pytest

from crm.choices import InteractionStatus, MessageDirection
from crm.interactions.models import Interaction, InteractionEvent, Message
from tests.contacts.factories import CustomerFactory
from tests.crm.admin_pages import form_data, messages_of, url
from tests.crm.factories import InteractionFactory, MessageFactory, QueueFactory, interaction_in_status

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "query",
    [
        {"created_at__year": "abc"},
        {"created_at__gte": "not-a-date"},
        {"status__exact": "zzz"},
        {"priority__exact": "high"},
        {"queue__id__exact": "abc"},
        {"o": "99"},
        {"p": "-1"},
        {"unknown_field": "1"},
    ],
)
def test_interaction_changelist_survives_bad_parameters(admin_client, query):
    InteractionFactory()

    response = admin_client.get(url(Interaction, "changelist"), query)

    assert response.status_code in (200, 302)


def test_interaction_add_goes_through_the_lifecycle(admin_client):
    customer, queue = CustomerFactory(), QueueFactory(channels=["email"])

    response = admin_client.post(
        url(Interaction, "add"),
        {
            "customer": customer.pk,
            "channel": "email",
            "direction": "inbound",
            "queue": queue.pk,
            "subject": "Refund",
            "priority": "2",
            "external_id": "",
            "tags": "",
            "category": "",
        },
    )

    assert response.status_code == 302
    interaction = Interaction.objects.get()
    assert (interaction.status, interaction.queue_id) == (InteractionStatus.QUEUED, queue.pk)
    assert interaction.events.exists()


def test_interaction_add_to_a_queue_not_serving_the_channel_is_a_form_error(admin_client):
    customer, queue = CustomerFactory(), QueueFactory(channels=["voice"])

    response = admin_client.post(
        url(Interaction, "add"),
        {"customer": customer.pk, "channel": "email", "direction": "inbound", "queue": queue.pk, "priority": "2"},
    )

    assert response.status_code == 200
    assert not Interaction.objects.exists()


def test_interaction_change_edits_the_description_but_not_the_status(admin_client):
    interaction = interaction_in_status(InteractionStatus.ACTIVE)
    page = admin_client.get(url(Interaction, "change", interaction.pk))

    data = form_data(page) | {"subject": "New subject", "status": "closed"}
    response = admin_client.post(url(Interaction, "change", interaction.pk), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    interaction.refresh_from_db()
    assert interaction.subject == "New subject"
    assert interaction.status == InteractionStatus.ACTIVE
    assert interaction.events.filter(kind="updated").exists()


def test_writing_a_message_from_the_interaction_page_uses_the_message_service(admin_client, admin_user):
    interaction = interaction_in_status(InteractionStatus.ACTIVE)
    page = admin_client.get(url(Interaction, "change", interaction.pk))
    new_prefix = next(
        f.formset.prefix
        for f in page.context["inline_admin_formsets"]
        if f.formset.model is Message and f.opts.verbose_name == "new message"
    )

    data = form_data(page) | {
        f"{new_prefix}-TOTAL_FORMS": "1",
        f"{new_prefix}-0-direction": MessageDirection.OUTBOUND,
        f"{new_prefix}-0-body": "We are on it.",
    }
    response = admin_client.post(url(Interaction, "change", interaction.pk), data)

    assert response.status_code == 302
    message = interaction.messages.get(body="We are on it.")
    assert message.author == admin_user
    interaction.refresh_from_db()
    assert interaction.first_response_at == message.created_at


def test_resolve_action_moves_what_it_may_and_reports_the_rest(admin_client):
    active = interaction_in_status(InteractionStatus.ACTIVE)
    queued = interaction_in_status(InteractionStatus.QUEUED)

    response = admin_client.post(
        url(Interaction, "changelist"), {"action": "resolve", "_selected_action": [active.pk, queued.pk]}, follow=True
    )

    assert response.status_code == 200
    active.refresh_from_db()
    queued.refresh_from_db()
    assert active.status == InteractionStatus.RESOLVED
    assert queued.status == InteractionStatus.QUEUED
    texts = messages_of(response)
    assert any("1 interaction resolved" in t for t in texts)
    assert any(f"#{queued.pk}" in t for t in texts)


@pytest.mark.parametrize(
    ("action", "start", "end"),
    [
        ("close", InteractionStatus.RESOLVED, InteractionStatus.CLOSED),
        ("abandon", InteractionStatus.QUEUED, InteractionStatus.ABANDONED),
    ],
)
def test_close_and_abandon_actions(admin_client, action, start, end):
    interaction = interaction_in_status(start)

    admin_client.post(url(Interaction, "changelist"), {"action": action, "_selected_action": [interaction.pk]})

    interaction.refresh_from_db()
    assert interaction.status == end


def test_interactions_cannot_be_deleted_in_the_admin(admin_client):
    interaction = InteractionFactory()

    assert admin_client.get(url(Interaction, "delete", interaction.pk)).status_code == 403


def test_existing_messages_and_events_are_read_only(admin_client):
    message = MessageFactory(body="original")

    admin_client.post(url(Message, "change", message.pk), {"body": "changed", "direction": "outbound"})

    message.refresh_from_db()
    assert (message.body, message.direction) == ("original", "inbound")
    event = interaction_in_status(InteractionStatus.QUEUED).events.first()
    assert admin_client.post(url(InteractionEvent, "change", event.pk), {"kind": "x"}).status_code == 403


def test_a_message_refused_by_the_service_is_an_error_message_not_a_crash(admin_client):
    closed = interaction_in_status(InteractionStatus.CLOSED)

    response = admin_client.post(
        url(Message, "add"), {"interaction": closed.pk, "direction": "outbound", "body": "Hello?"}, follow=True
    )

    assert response.status_code == 200
    assert any("closed" in t for t in messages_of(response))
    assert not closed.messages.exists()
