import uuid

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from crm.choices import InteractionStatus, MessageDirection, SurveyKind, SurveyStatus
from crm.deadletters.models import DeadLetter
from crm.interactions.models import Interaction, Message
from crm.quality.models import CannedResponse
from crm.routing.models import Queue, QueueSkill
from crm.sla.models import SLAPolicy, SLATarget
from crm.surveys.models import Survey, SurveyResponse, SurveySuppressionRule
from crm.webhooks.models import Webhook, WebhookAttempt, WebhookDelivery
from tests.agents.factories import SkillFactory
from tests.contacts.factories import CustomerFactory


class SLAPolicyFactory(DjangoModelFactory):
    class Meta:
        model = SLAPolicy

    name = factory.Sequence(lambda n: f"SLA {n}")


class SLATargetFactory(DjangoModelFactory):
    class Meta:
        model = SLATarget

    policy = factory.SubFactory(SLAPolicyFactory)
    channel = "chat"
    first_response_seconds = 120
    resolution_seconds = 3600


class QueueFactory(DjangoModelFactory):
    class Meta:
        model = Queue

    name = factory.Sequence(lambda n: f"Queue {n}")
    channels = factory.LazyFunction(lambda: ["chat", "email", "voice"])


class CannedResponseFactory(DjangoModelFactory):
    """A global response (no queue) unless given one."""

    class Meta:
        model = CannedResponse

    title = factory.Sequence(lambda n: f"Response {n}")
    body = factory.Faker("paragraph")
    queue = None


class QueueSkillFactory(DjangoModelFactory):
    class Meta:
        model = QueueSkill

    queue = factory.SubFactory(QueueFactory)
    skill = factory.SubFactory(SkillFactory)
    min_level = 1


class InteractionFactory(DjangoModelFactory):
    """A queued chat. For other states prefer the lifecycle services, which keep timestamps consistent."""

    class Meta:
        model = Interaction

    customer = factory.SubFactory(CustomerFactory)
    channel = "chat"
    queue = factory.SubFactory(QueueFactory)
    subject = factory.Faker("sentence", nb_words=5)
    status = InteractionStatus.QUEUED
    created_at = factory.LazyFunction(timezone.now)
    queued_at = factory.LazyAttribute(lambda i: i.created_at)


class MessageFactory(DjangoModelFactory):
    class Meta:
        model = Message

    interaction = factory.SubFactory(InteractionFactory)
    direction = MessageDirection.INBOUND
    body = factory.Faker("paragraph")
    created_at = factory.LazyFunction(timezone.now)


class SurveyFactory(DjangoModelFactory):
    """A sent survey. Resolving an interaction already schedules one of its queue's kind: that one is reused."""

    class Meta:
        model = Survey
        django_get_or_create = ("interaction", "kind")

    interaction = factory.SubFactory(InteractionFactory)
    kind = SurveyKind.CSAT
    token = factory.Sequence(lambda n: f"survey-token-{n:06d}")
    status = SurveyStatus.SENT
    channel = factory.LazyAttribute(lambda s: s.interaction.channel)
    sent_at = factory.LazyFunction(timezone.now)


class SurveyResponseFactory(DjangoModelFactory):
    class Meta:
        model = SurveyResponse

    survey = factory.SubFactory(SurveyFactory)
    score = 4
    comment = factory.Faker("sentence")
    answered_at = factory.LazyFunction(timezone.now)


class SurveySuppressionRuleFactory(DjangoModelFactory):
    class Meta:
        model = SurveySuppressionRule


class WebhookFactory(DjangoModelFactory):
    """A subscription to everything. Its URL is not checked (the factory skips the service): tests aim it at will."""

    class Meta:
        model = Webhook

    url = "https://hooks.example.com/switchboard"
    events = factory.LazyFunction(lambda: ["*"])
    secret = "test-webhook-secret-0123456789"


class WebhookDeliveryFactory(DjangoModelFactory):
    class Meta:
        model = WebhookDelivery

    webhook = factory.SubFactory(WebhookFactory)
    event_id = factory.LazyFunction(uuid.uuid4)
    event_type = "interaction.created"
    payload = factory.LazyAttribute(
        lambda d: {"id": str(d.event_id), "type": d.event_type, "created_at": "2026-01-01T00:00:00Z", "data": {}}
    )
    next_attempt_at = factory.LazyFunction(timezone.now)
    created_at = factory.LazyFunction(timezone.now)


class WebhookAttemptFactory(DjangoModelFactory):
    class Meta:
        model = WebhookAttempt

    delivery = factory.SubFactory(WebhookDeliveryFactory)
    attempted_at = factory.LazyFunction(timezone.now)
    status_code = 500
    error = "HTTP 500"


class DeadLetterFactory(DjangoModelFactory):
    class Meta:
        model = DeadLetter

    task_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    task_name = "crm.tasks.webhook_deliver_task"
    args = factory.LazyFunction(lambda: [1])
    exception = "started 5 times without finishing"
    delivery_count = 5


def interaction_in_status(status, *, agent=None, actor=None, **create_kwargs):
    """An interaction brought to ``status`` through the lifecycle services, so timestamps and events are real.

    ``create_kwargs`` go to ``interaction_create_inbound`` (default: a chat from a new customer into a
    new queue). ``new`` is built directly: the services only leave work new when no queue serves it.
    """
    from crm.interactions import services as lifecycle
    from tests.agents.factories import AgentFactory

    if status == InteractionStatus.NEW:
        return InteractionFactory(status=InteractionStatus.NEW, queue=None, queued_at=None, **create_kwargs)
    create_kwargs.setdefault("channel", "chat")
    create_kwargs.setdefault("queue", QueueFactory(channels=[create_kwargs["channel"]]))
    if "customer" not in create_kwargs and "customer_identity" not in create_kwargs:
        create_kwargs["customer"] = CustomerFactory()
    interaction = lifecycle.interaction_create_inbound(**create_kwargs)
    steps = {
        InteractionStatus.QUEUED: [],
        InteractionStatus.ABANDONED: ["abandon"],
        InteractionStatus.ASSIGNED: ["assign"],
        InteractionStatus.ACTIVE: ["assign", "accept"],
        InteractionStatus.ON_HOLD: ["assign", "accept", "hold"],
        InteractionStatus.WRAP_UP: ["assign", "accept", "wrap_up"],
        InteractionStatus.RESOLVED: ["assign", "accept", "resolve"],
        InteractionStatus.CLOSED: ["assign", "accept", "resolve", "close"],
    }[status]
    for step in steps:
        if step == "assign":
            agent = agent or AgentFactory(team=interaction.queue.team)
            interaction = lifecycle.interaction_assign(interaction=interaction, agent=agent, actor=actor)
        elif step == "accept" and interaction.status == InteractionStatus.ACTIVE:
            continue  # an auto-accept queue accepted it as it was assigned
        else:
            interaction = getattr(lifecycle, f"interaction_{step}")(interaction=interaction, actor=actor)
    return interaction
