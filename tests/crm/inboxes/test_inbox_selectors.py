"""``selectors.email_inbox_for_token``: each caller gets its own copy of the cached inbox, unless it only reads it
(``read_only``, the queued acceptance): then the process's cached instance itself, which the acceptance leaves as
it was."""

import uuid

import pytest
import redis
from django.conf import settings as django_settings

from crm.inboxes.adapters.email import EmailAdapter
from crm.inboxes.selectors import email_inbox_for_token
from crm.inboxes.services.queued import drain_starting, email_accept
from tests.crm.inboxes.email import corpus
from tests.crm.inboxes.factories import InboxFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("own_cache_generation")]


@pytest.fixture
def inbox(publish_to):
    queue = f"test-inbox-selectors-{uuid.uuid4().hex[:12]}"
    publish_to(queue)  # the acceptance's drain request goes where no worker reads
    inbox = InboxFactory(settings=EmailAdapter.validate_settings({"address": corpus.SUPPORT, "import": "queued"}))
    yield inbox
    redis.Redis.from_url(django_settings.CELERY_BROKER_URL).delete(queue)
    drain_starting(inbox_id=inbox.pk)  # its "drain pending" mark must not hold up a later test's request


def test_each_caller_gets_its_own_copy_but_a_read_only_one(inbox):
    first, second = email_inbox_for_token(inbox.token), email_inbox_for_token(inbox.token)
    assert first is not second and first.pk == second.pk == inbox.pk
    first.name = "changed by one caller"
    assert email_inbox_for_token(inbox.token).name == inbox.name  # nobody else sees it

    shared = email_inbox_for_token(inbox.token, with_queue=False, read_only=True)
    assert shared is email_inbox_for_token(inbox.token, with_queue=False, read_only=True)
    assert email_inbox_for_token("no-such-token", with_queue=False, read_only=True) is None


def test_the_queued_acceptance_leaves_the_shared_instance_as_it_was(inbox):
    shared = email_inbox_for_token(inbox.token, with_queue=False, stale_for=5, read_only=True)
    before = {name: value for name, value in vars(shared).items() if name != "_state"}
    cached_fields = dict(shared._state.fields_cache)

    receipt = email_accept(inbox=shared, raw=corpus.message().as_bytes(), cached=True)

    assert receipt.pk and receipt.inbox_id == inbox.pk and not receipt.duplicate
    assert {name: value for name, value in vars(shared).items() if name != "_state"} == before
    assert shared._state.fields_cache == cached_fields  # nothing linked to it
