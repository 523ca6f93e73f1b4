import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from crm.choices import InteractionStatus, MessageDirection
from crm.models import Interaction, Message, Queue, QueueSkill, SLAPolicy, SLATarget
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
