import re
from datetime import time, timedelta

import pytest
from django import forms
from django.contrib import admin
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from crm.choices import InteractionStatus, MessageDirection
from crm.models import (
    ApiKey,
    BusinessHours,
    Escalation,
    IdempotencyRecord,
    Interaction,
    InteractionEvent,
    Message,
    Queue,
    QueueSkill,
    Review,
    Scorecard,
    ScorecardCriterion,
    SLAPolicy,
    SLATarget,
)
from crm.services.api_keys import api_key_authenticate, api_key_create
from crm.services.calendars import PeriodSpec, business_hours_create
from tests.agents.factories import SkillFactory
from tests.contacts.factories import CustomerFactory
from tests.crm.factories import (
    CannedResponseFactory,
    DeadLetterFactory,
    InteractionFactory,
    MessageFactory,
    QueueFactory,
    QueueSkillFactory,
    SLAPolicyFactory,
    SLATargetFactory,
    SurveyResponseFactory,
    SurveySuppressionRuleFactory,
    WebhookAttemptFactory,
    WebhookFactory,
    interaction_in_status,
)

pytestmark = pytest.mark.django_db

READ_ONLY = {
    "interactionevent",
    "survey",
    "surveyresponse",
    "idempotencyrecord",
    "assignment",
    "escalation",
    "inboundreceipt",
    "webhookdelivery",
    "deadletter",
}
MADE_BY_SERVICES = {"review"}  # sampled from the review list's "Sample interactions" page, not added by hand


def crm_models():
    return sorted(
        (model for model in admin.site._registry if model._meta.app_label == "crm"), key=lambda m: m._meta.model_name
    )


def make(model):
    """One saved row of each registered crm model."""
    name = model._meta.model_name
    if name == "queue":
        return QueueSkillFactory().queue
    if name == "slapolicy":
        return SLATargetFactory().policy
    if name == "interaction":
        interaction = interaction_in_status(InteractionStatus.ACTIVE)
        MessageFactory(interaction=interaction)
        return interaction
    if name == "message":
        return MessageFactory()
    if name == "interactionevent":
        return interaction_in_status(InteractionStatus.QUEUED).events.first()
    if name == "survey":
        return SurveyResponseFactory().survey
    if name == "surveyresponse":
        return SurveyResponseFactory()
    if name == "apikey":
        return api_key_create(name="integrator", scopes=["read"])[0]
    if name == "assignment":
        return interaction_in_status(InteractionStatus.ACTIVE).assignments.get()
    if name == "cannedresponse":
        return CannedResponseFactory(queue=QueueFactory(), shortcut="thanks")
    if name == "businesshours":
        return business_hours_create(
            name="Office", time_zone="Europe/Berlin", periods=[PeriodSpec(0, time(9), time(17))]
        )
    if name == "escalation":
        interaction = interaction_in_status(InteractionStatus.QUEUED)
        return Escalation.objects.create(
            interaction=interaction,
            target="first_response",
            clock_started_at=interaction.created_at,
            step=0,
            kind="breach",
            due_at=interaction.created_at,
            created_at=interaction.created_at,
        )
    if name == "idempotencyrecord":
        return IdempotencyRecord.objects.create(owner="key:1", key="abc", request_hash="0" * 64)
    if name == "scorecard":
        card = Scorecard.objects.create(name="Sample card")
        ScorecardCriterion.objects.create(scorecard=card, name="Empathy", weight=2)
        return card
    if name == "review":
        card = make(Scorecard)
        return Review.objects.create(
            interaction=interaction_in_status(InteractionStatus.RESOLVED), scorecard=card, created_at=timezone.now()
        )
    if name == "surveysuppressionrule":
        return SurveySuppressionRuleFactory(dispositions=["duplicate"])
    if name == "webhook":
        return WebhookFactory()
    if name == "webhookdelivery":
        return WebhookAttemptFactory().delivery
    if name == "deadletter":
        return DeadLetterFactory()
    if name == "inboundreceipt":
        from crm.inboxes.services.inbound import email_receive
        from tests.crm.inboxes.factories import InboxFactory

        return email_receive(inbox=InboxFactory(), raw=b"Subject: no sender\r\n\r\nhi\r\n", source="endpoint")
    raise AssertionError(f"no sample for {name}; add one")


def url(model, view, *args) -> str:
    return reverse(f"admin:crm_{model._meta.model_name}_{view}", args=args)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def form_data(response) -> dict:
    """What the browser would post back from a rendered admin change form, unchanged."""
    data = {}

    def add(form, prefix_name=lambda name: name):
        for name, field in form.fields.items():
            value = field.prepare_value(form[name].value())
            if isinstance(field, forms.MultipleChoiceField):
                data[prefix_name(name)] = value or []
            elif isinstance(field, forms.BooleanField):
                if value:
                    data[prefix_name(name)] = "on"
            else:
                data[prefix_name(name)] = "" if value is None else value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        add(formset.management_form, lambda name, p=formset.prefix: f"{p}-{name}")
        for form in formset.initial_forms:
            add(form, form.add_prefix)
    return data


def test_every_crm_model_is_registered():
    names = {m._meta.model_name for m in crm_models()}

    assert names >= {"queue", "slapolicy", "interaction", "message", "interactionevent", "survey"}
    assert names >= {"surveyresponse", "apikey", "idempotencyrecord"}


@pytest.mark.parametrize("model", crm_models(), ids=lambda m: m._meta.model_name)
def test_admin_pages_render_for_a_superuser(admin_client, model):
    obj = make(model)

    assert admin_client.get(url(model, "changelist")).status_code == 200
    assert admin_client.get(url(model, "changelist"), {"q": "x" * 300}).status_code == 200
    assert admin_client.get(url(model, "change", obj.pk)).status_code == 200
    add = admin_client.get(url(model, "add"))
    assert add.status_code == (403 if model._meta.model_name in READ_ONLY | MADE_BY_SERVICES else 200)


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


@pytest.mark.parametrize("object_id", ["999999", "abc", str(2**70)])
def test_change_page_of_a_missing_object_redirects(admin_client, object_id):
    assert admin_client.get(url(Queue, "change", object_id)).status_code == 302


def test_queue_changelist_shows_the_waiting_count(admin_client):
    queue = QueueFactory(name="Billing")
    InteractionFactory(queue=queue)
    InteractionFactory(queue=queue)

    response = admin_client.get(url(Queue, "changelist"))

    assert response.context["cl"].result_list.get(pk=queue.pk).waiting == 2


def _queue_post(**overrides) -> dict:
    data = {
        "name": "Support",
        "description": "",
        "team": "",
        "channels": ["chat"],
        "priority": "5",
        "sla_policy": "",
        "overflow_queue": "",
        "overflow_after_seconds": "",
        "service_level_seconds": "20",
        "service_level_target": "0.8",
        "surveys_enabled": "on",
        "survey_kind": "csat",
        "survey_delay_seconds": "",
        "is_active": "on",
        "queue_skills-TOTAL_FORMS": "0",
        "queue_skills-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def test_queue_add_with_a_required_skill(admin_client):
    skill = SkillFactory()

    response = admin_client.post(
        url(Queue, "add"),
        _queue_post(
            **{"queue_skills-TOTAL_FORMS": "1", "queue_skills-0-skill": skill.pk, "queue_skills-0-min_level": "4"}
        ),
    )

    assert response.status_code == 302
    queue = Queue.objects.get(name="Support")
    assert list(queue.queue_skills.values_list("skill_id", "min_level")) == [(skill.pk, 4)]


@pytest.mark.parametrize(
    "overrides",
    [
        {"priority": "11"},
        {"channels": ["fax"]},
        {"service_level_target": "0"},
        {"name": "EXISTING"},
        {"overflow_after_seconds": "60"},
        {"queue_skills-TOTAL_FORMS": "1", "queue_skills-0-skill": "999999", "queue_skills-0-min_level": "2"},
        {"queue_skills-TOTAL_FORMS": "1", "queue_skills-0-skill": "SKILL", "queue_skills-0-min_level": "9"},
    ],
)
def test_queue_add_refuses_bad_input_with_a_form_error(admin_client, overrides):
    QueueFactory(name="Existing")
    skill = SkillFactory()
    overrides = {k: (str(skill.pk) if v == "SKILL" else v) for k, v in overrides.items()}

    response = admin_client.post(url(Queue, "add"), _queue_post(**overrides))

    assert response.status_code == 200
    assert response.context["errors"]
    assert Queue.objects.count() == 1 and QueueSkill.objects.count() == 0


def test_queue_change_refuses_an_overflow_cycle(admin_client):
    a = QueueFactory(name="A")
    b = QueueFactory(name="B", overflow_queue=a, overflow_after_seconds=60)
    page = admin_client.get(url(Queue, "change", a.pk))

    data = form_data(page) | {"overflow_queue": str(b.pk), "overflow_after_seconds": "30"}
    response = admin_client.post(url(Queue, "change", a.pk), data)

    assert response.status_code == 200
    assert "cycle" in str(response.context["errors"])
    a.refresh_from_db()
    assert a.overflow_queue_id is None


def test_queue_in_use_cannot_be_deleted_from_the_admin(admin_client):
    queue = QueueFactory(name="Busy")
    InteractionFactory(queue=queue)

    page = admin_client.get(url(Queue, "delete", queue.pk))
    response = admin_client.post(url(Queue, "delete", queue.pk), {"post": "yes"})

    assert "open interactions" in page.content.decode()
    assert response.status_code == 200
    assert Queue.objects.filter(pk=queue.pk).exists()


def test_idle_queue_is_deleted_from_the_admin(admin_client):
    queue = QueueFactory()

    response = admin_client.post(url(Queue, "delete", queue.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not Queue.objects.exists()


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
    assert any("1 interaction(s) resolved" in t for t in texts)
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


# --- API keys ----------------------------------------------------------------------------------------------------


def _add_key(admin_client, **overrides):
    data = {"name": "CTI connector", "scopes": ["read", "write"], "team": "", "expires_at_0": "", "expires_at_1": ""}
    data.update(overrides)
    return admin_client.post(url(ApiKey, "add"), data, follow=True)


def test_api_key_add_shows_the_raw_key_once(admin_client, admin_user):
    response = _add_key(admin_client)

    assert response.status_code == 200
    key = ApiKey.objects.get()
    shown = [re.search(r"sb_[A-Za-z0-9_\-]+", t) for t in messages_of(response)]
    raw = next(m.group(0) for m in shown if m)
    assert api_key_authenticate(raw_key=raw) == key
    assert (key.scopes, key.created_by) == (["read", "write"], admin_user)
    assert "not be shown again" in response.content.decode()

    again = admin_client.get(url(ApiKey, "change", key.pk)).content.decode()
    assert raw not in again and key.hashed_key not in again
    assert raw not in admin_client.get(url(ApiKey, "changelist")).content.decode()


@pytest.mark.parametrize(
    "overrides",
    [
        {"scopes": []},
        {"scopes": ["root"]},
        {"name": "   "},
        {"team": "999999"},
        {"expires_at_0": "2001-01-01", "expires_at_1": "00:00:00"},
        {"expires_at_0": "not a date", "expires_at_1": "00:00"},
    ],
)
def test_api_key_add_refuses_bad_input(admin_client, overrides):
    response = _add_key(admin_client, **overrides)

    assert response.status_code == 200
    assert response.context["errors"]
    assert not ApiKey.objects.exists()


def test_api_key_with_expiry_in_the_future(admin_client):
    later = timezone.localtime() + timedelta(days=30)

    _add_key(admin_client, expires_at_0=later.strftime("%Y-%m-%d"), expires_at_1=later.strftime("%H:%M:%S"))

    assert ApiKey.objects.get().expires_at.date() == later.date()


def test_revoke_action_revokes_the_keys(admin_client):
    key, raw = api_key_create(name="old", scopes=["read"])

    admin_client.post(url(ApiKey, "changelist"), {"action": "revoke", "_selected_action": [key.pk]})

    key.refresh_from_db()
    assert key.revoked_at is not None
    assert api_key_authenticate(raw_key=raw) is None


def test_a_message_refused_by_the_service_is_an_error_message_not_a_crash(admin_client):
    closed = interaction_in_status(InteractionStatus.CLOSED)

    response = admin_client.post(
        url(Message, "add"), {"interaction": closed.pk, "direction": "outbound", "body": "Hello?"}, follow=True
    )

    assert response.status_code == 200
    assert any("closed" in t for t in messages_of(response))
    assert not closed.messages.exists()


# --- SLA ---------------------------------------------------------------------------------------------------------


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
