import factory
from factory.django import DjangoModelFactory

from crm.inboxes.models import Inbox
from tests.crm.factories import QueueFactory


class InboxFactory(DjangoModelFactory):
    """An e-mail inbox (no servers: Django's mailer sends) feeding a new queue of its channel, unless told."""

    class Meta:
        model = Inbox

    name = factory.Sequence(lambda n: f"Support {n}")
    channel = "email"
    adapter = "email"
    queue = factory.SubFactory(QueueFactory, channels=factory.LazyAttribute(lambda q: [q.factory_parent.channel]))
    settings = factory.Sequence(lambda n: {"address": f"support{n}@acme.test"})
