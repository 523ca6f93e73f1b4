"""Helpers of the crm admin tests: the registered crm models, one saved row of each, admin URLs, messages and
the data a rendered change form posts back."""

from datetime import time

from django import forms
from django.contrib import admin
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from crm.access.models import IdempotencyRecord
from crm.access.services.api_keys import api_key_create
from crm.choices import InteractionStatus
from crm.quality.models import Review, Scorecard, ScorecardCriterion
from crm.sla.models import Escalation
from crm.sla.services.calendars import PeriodSpec, business_hours_create
from tests.crm.factories import (
    CannedResponseFactory,
    DeadLetterFactory,
    MessageFactory,
    QueueFactory,
    QueueSkillFactory,
    SLATargetFactory,
    SurveyResponseFactory,
    SurveySuppressionRuleFactory,
    WebhookAttemptFactory,
    WebhookFactory,
    interaction_in_status,
)


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
    if name == "inbox":
        from tests.crm.inboxes.factories import InboxFactory

        return InboxFactory()
    if name == "inboundreceipt":
        from crm.inboxes.services.inbound import email_receive
        from tests.crm.inboxes.factories import InboxFactory

        return email_receive(inbox=InboxFactory(), raw=b"Subject: no sender\r\n\r\nhi\r\n", source="endpoint")
    if name == "delivery":
        from tests.crm.inboxes.outbound import delivery_of, email_inbox, email_work, reply

        return delivery_of(reply(email_work(email_inbox())))
    if name == "retentionpolicy":
        from crm.privacy.models import RetentionPolicy

        return RetentionPolicy.objects.create(name="Call recordings", target="recordings", age_days=90)
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
