import factory
from factory.django import DjangoModelFactory

from crm.inboxes.adapters.email import EmailAdapter
from crm.inboxes.models import Inbox
from tests.crm.factories import QueueFactory


class InboxFactory(DjangoModelFactory):
    """An e-mail inbox on a queue of its own serving e-mail; settings as the adapter cleans them (give the whole
    settings dict to change them)."""

    class Meta:
        model = Inbox

    name = factory.Sequence(lambda n: f"Inbox {n}")
    channel = "email"
    adapter = "email"
    queue = factory.SubFactory(QueueFactory, channels=["email"])
    settings = factory.Sequence(lambda n: EmailAdapter.validate_settings({"address": f"support{n}@example.com"}))
