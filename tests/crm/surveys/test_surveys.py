import json
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from contacts.services import identity_mark_undeliverable
from crm.choices import InteractionStatus, SurveyKind, SurveyStatus
from crm.interactions import services as lifecycle
from crm.interactions.models import Message
from crm.surveys.models import Survey
from crm.surveys.services import survey_dispatch, survey_from_token, survey_publish_due
from tests.agents.factories import AgentFactory
from tests.contacts.factories import ContactIdentityFactory, CustomerFactory
from tests.crm.factories import QueueFactory, SurveySuppressionRuleFactory, interaction_in_status

pytestmark = pytest.mark.django_db

SS = SurveyStatus


@pytest.fixture(autouse=True)
def no_delay(settings):
    settings.SURVEY_DISPATCH_DELAY = 0


def resolved(channel="email", *, customer=None, queue=None, disposition="", category="", **kwargs):
    interaction = interaction_in_status(
        InteractionStatus.ACTIVE,
        channel=channel,
        customer=customer or CustomerFactory(),
        queue=queue or QueueFactory(channels=[channel]),
        **kwargs,
    )
    return lifecycle.interaction_resolve(interaction=interaction, disposition=disposition, category=category)


def dispatch(interaction) -> Survey:
    survey = interaction.surveys.get()
    survey_dispatch(survey_id=survey.pk)
    survey.refresh_from_db()
    return survey


# --- scheduling -------------------------------------------------------------------------------------------------


def test_resolution_writes_a_pending_survey_due_after_the_delay(settings):
    settings.SURVEY_DISPATCH_DELAY = 300
    interaction = resolved()
    survey = interaction.surveys.get()
    assert survey.status == SS.PENDING and survey.kind == SurveyKind.CSAT and survey.channel == "email"
    assert survey.dispatch_after == interaction.resolved_at + timedelta(seconds=300)
    # not due: a message for it now sends nothing
    assert survey_dispatch(survey_id=survey.pk) is None
    assert mail.outbox == []


def test_the_queue_chooses_the_kind_and_overrides_the_delay(settings):
    settings.SURVEY_DISPATCH_DELAY = 300
    queue = QueueFactory(channels=["email"], survey_kind=SurveyKind.NPS, survey_delay_seconds=60)
    interaction = resolved(queue=queue)
    survey = interaction.surveys.get()
    assert survey.kind == SurveyKind.NPS
    assert survey.dispatch_after == interaction.resolved_at + timedelta(seconds=60)


def test_a_resolution_that_rolls_back_leaves_no_survey():
    interaction = interaction_in_status(
        InteractionStatus.ACTIVE, channel="email", queue=QueueFactory(channels=["email"])
    )
    with pytest.raises(RuntimeError), transaction.atomic():
        lifecycle.interaction_resolve(interaction=interaction)
        raise RuntimeError("the caller fails after resolving")
    assert not Survey.objects.exists()


def test_a_reopened_and_resolved_again_interaction_keeps_its_one_survey():
    interaction = resolved()
    interaction = lifecycle.interaction_reopen(interaction=interaction)
    interaction = lifecycle.interaction_assign(interaction=interaction, agent=AgentFactory())
    interaction = lifecycle.interaction_accept(interaction=interaction)
    lifecycle.interaction_resolve(interaction=interaction)
    assert Survey.objects.filter(interaction=interaction).count() == 1


def test_a_survey_due_while_the_interaction_is_reopened_waits_for_the_next_resolution(settings):
    interaction = lifecycle.interaction_reopen(interaction=resolved())
    survey = dispatch(interaction)
    assert survey.status == SS.PENDING and survey.dispatch_after > timezone.now() - timedelta(seconds=1)
    assert mail.outbox == []

    interaction = lifecycle.interaction_assign(interaction=interaction, agent=AgentFactory())
    lifecycle.interaction_resolve(interaction=lifecycle.interaction_accept(interaction=interaction))
    assert dispatch(interaction).status == SS.SENT
    assert len(mail.outbox) == 1


def test_abandoned_interactions_get_no_survey():
    interaction_in_status(InteractionStatus.ABANDONED, channel="email", queue=QueueFactory(channels=["email"]))
    assert not Survey.objects.exists()


# --- sending ----------------------------------------------------------------------------------------------------


def test_dispatch_sends_an_email_with_text_html_and_a_single_use_link():
    customer = CustomerFactory(name="Ada", email="ada@example.com")
    interaction = resolved(customer=customer, subject="Tom's invoice <question>")

    survey = dispatch(interaction)

    assert survey.status == SS.SENT and survey.sent_at is not None
    [message] = mail.outbox
    assert message.to == ["ada@example.com"]
    assert message.subject == "How did we do: Tom's invoice <question>?"
    assert "Tom&#x27;s invoice &lt;question&gt;" in message.alternatives[0][0]
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    link = next(word for word in message.body.split() if "/s/" in word)
    assert link.rstrip("/") + "/opt-out/" in message.body
    assert link in html
    token = link.rstrip("/").rsplit("/", 1)[-1]
    assert survey_from_token(token=token).pk == survey.pk
    # sent: a duplicate message sends nothing more
    assert survey_dispatch(survey_id=survey.pk) is None
    assert len(mail.outbox) == 1


def test_opted_out_customers_are_not_surveyed():
    interaction = resolved(customer=CustomerFactory(survey_opt_out=True))
    survey = dispatch(interaction)
    assert survey.status == SS.SUPPRESSED and "opted out" in survey.suppressed_reason
    assert mail.outbox == []


def test_a_number_that_texted_stop_gets_no_survey_by_text():
    customer = CustomerFactory()
    ContactIdentityFactory(customer=customer, channel="phone", address="+4915112345678")
    identity_mark_undeliverable(channel="sms", address="+4915112345678", reason="opted out of messages (STOP)")

    survey = dispatch(resolved("sms", customer=customer))

    assert survey.status == SS.SUPPRESSED and "opted out of messages" in survey.suppressed_reason


def test_opting_out_during_the_delay_is_respected():
    customer = CustomerFactory()
    interaction = resolved(customer=customer)
    customer.survey_opt_out = True
    customer.save(update_fields=["survey_opt_out"])
    assert dispatch(interaction).status == SS.SUPPRESSED
    assert mail.outbox == []


def test_frequency_cap_one_survey_per_customer_per_n_days(settings):
    settings.SURVEY_FREQUENCY_CAP_DAYS = 30
    customer = CustomerFactory()
    first, second = resolved(customer=customer), resolved(customer=customer)
    assert dispatch(first).status == SS.SENT
    survey = dispatch(second)
    assert survey.status == SS.SUPPRESSED and "frequency cap" in survey.suppressed_reason
    assert len(mail.outbox) == 1


def test_the_cap_does_not_count_surveys_older_than_n_days(settings):
    settings.SURVEY_FREQUENCY_CAP_DAYS = 30
    customer = CustomerFactory()
    first, second = resolved(customer=customer), resolved(customer=customer)
    dispatch(first)
    Survey.objects.filter(interaction=first).update(sent_at=timezone.now() - timedelta(days=31))
    assert dispatch(second).status == SS.SENT


def test_spam_is_never_surveyed():
    survey = resolved(disposition="Spam").surveys.get()
    assert survey.status == SS.SUPPRESSED and survey.suppressed_reason == "spam"


def test_a_supervisors_rule_excludes_dispositions_and_categories_per_queue():
    queue = QueueFactory(channels=["email"])
    SurveySuppressionRuleFactory(queue=queue, dispositions=["complaint"], categories=["legal"])
    assert resolved(queue=queue, disposition="complaint").surveys.get().status == SS.SUPPRESSED
    assert resolved(queue=queue, category="legal").surveys.get().status == SS.SUPPRESSED
    assert resolved(queue=queue, disposition="solved").surveys.get().status == SS.PENDING
    # another queue is not concerned
    assert resolved(disposition="complaint").surveys.get().status == SS.PENDING


def test_a_rule_for_a_channel_applies_to_every_queue_of_it():
    SurveySuppressionRuleFactory(channel="email", dispositions=["duplicate"])
    assert resolved(disposition="duplicate").surveys.get().status == SS.SUPPRESSED
    assert resolved("chat", disposition="duplicate").surveys.get().status == SS.PENDING


def test_queue_switched_off_sends_no_survey():
    survey = resolved(queue=QueueFactory(channels=["email"], surveys_enabled=False)).surveys.get()
    assert survey.status == SS.SUPPRESSED


def test_a_closed_reply_window_suppresses_messaging_surveys():
    SurveySuppressionRuleFactory(channel="chat", reply_window_hours=24)
    late, recent = resolved("chat", body="help"), resolved("chat", body="help")
    Message.objects.filter(interaction__customer=late.customer).update(created_at=timezone.now() - timedelta(hours=25))

    survey = dispatch(late)
    assert survey.status == SS.SUPPRESSED and "24-hour reply window" in survey.suppressed_reason
    assert dispatch(recent).status == SS.SENT


def test_a_contact_answering_a_survey_does_not_trigger_another(settings):
    settings.SURVEY_FREQUENCY_CAP_DAYS = 0  # the cap would hide it; this is the reply rule alone
    customer = CustomerFactory()
    assert dispatch(resolved("sms", customer=customer)).status == SS.SENT
    reply = resolved("sms", customer=customer, body="10 thanks")
    survey = reply.surveys.get()
    assert survey.status == SS.SUPPRESSED and "answers a survey" in survey.suppressed_reason


def test_transient_failures_are_retried_with_backoff_then_sent(receiver, settings):
    settings.SURVEY_SENDER_WEBHOOK_URL = receiver.url
    settings.SURVEY_SENDERS = {"default": "crm.surveys.senders.WebhookPostSender"}
    settings.SURVEY_RETRY_BASE_SECONDS, settings.SURVEY_MAX_ATTEMPTS = 60, 5
    receiver.statuses = [503, 503]
    interaction = resolved("sms", customer=CustomerFactory(phone="+15551230000"))

    survey = dispatch(interaction)
    assert survey.status == SS.PENDING and survey.attempts == 1 and survey.last_error == "HTTP 503"
    assert timezone.now() + timedelta(seconds=55) < survey.dispatch_after <= timezone.now() + timedelta(seconds=60)

    Survey.objects.filter(pk=survey.pk).update(dispatch_after=timezone.now())
    survey = dispatch(interaction)
    assert survey.attempts == 2 and survey.dispatch_after > timezone.now() + timedelta(seconds=110)

    Survey.objects.filter(pk=survey.pk).update(dispatch_after=timezone.now())
    survey = dispatch(interaction)
    assert survey.status == SS.SENT
    body = json.loads(receiver.requests[-1]["body"])
    assert body["customer"]["phone"] == "+15551230000" and "/s/" in body["link"]


def test_after_the_last_attempt_the_failure_is_recorded(receiver, settings):
    settings.SURVEY_SENDER_WEBHOOK_URL = receiver.url
    settings.SURVEY_SENDERS = {"default": "crm.surveys.senders.WebhookPostSender"}
    settings.SURVEY_MAX_ATTEMPTS = 1
    receiver.statuses = [502]
    survey = dispatch(resolved("sms"))
    assert survey.status == SS.FAILED and survey.last_error == "HTTP 502"


def test_a_permanent_failure_is_recorded_at_once():
    survey = dispatch(resolved(customer=CustomerFactory(email="")))
    assert survey.status == SS.FAILED and survey.attempts == 1 and "no e-mail address" in survey.last_error


def test_the_sweep_publishes_due_surveys_once_per_lease(settings):
    interaction = resolved()
    Survey.objects.filter(interaction=interaction).update(leased_until=None)
    assert survey_publish_due() == 1
    assert survey_publish_due() == 0


@pytest.mark.django_db(transaction=True)
def test_a_second_dispatcher_skips_a_survey_being_sent(receiver, settings):
    """Two messages for one survey at once (a redelivery, a sweep): the second skips it, the customer gets one."""
    import threading

    from django.db import connection

    settings.SURVEY_SENDER_WEBHOOK_URL = receiver.url
    settings.SURVEY_SENDERS = {"default": "crm.surveys.senders.WebhookPostSender"}
    survey = resolved("sms").surveys.get()
    receiver.hold = True
    results = {}

    def first():
        try:
            results["first"] = survey_dispatch(survey_id=survey.pk)
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    assert receiver.arrived.wait(10)
    results["second"] = survey_dispatch(survey_id=survey.pk)
    receiver.release.set()
    thread.join(10)

    assert results == {"first": SS.SENT, "second": None}
    assert len(receiver.requests) == 1
