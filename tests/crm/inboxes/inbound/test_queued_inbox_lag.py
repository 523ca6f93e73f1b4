"""A queued acceptance reads its inbox from the per-process cache without asking Redis for every mail
(``stale_for``): whether the inbox still takes mail is checked by the INSERT itself, so an inbox deactivated or
given a new token elsewhere refuses mail at once even while this process's cache still holds it; only its settings
may lag a change made in another process, by at most ``QUEUED_SETTINGS_LAG_SECONDS``."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config import rowcache
from config.redis_clients import shared as shared_redis
from config.rowcache import token_key
from crm.inboxes.adapters.email import EmailAdapter
from crm.inboxes.models import InboundReceipt, Inbox
from crm.inboxes.services.queued import drain_starting
from crm.inboxes.views import QUEUED_SETTINGS_LAG_SECONDS
from tests.bench.test_bench_smoke import bench_module
from tests.crm.inboxes.email import corpus
from tests.crm.inboxes.factories import InboxFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("own_cache_generation")]


def _mail(n: int) -> bytes:
    return corpus.message(message_id=f"<lag-{n}@example.org>").as_bytes()


@pytest.fixture
def queued(post_mail, publish_to):
    publish_to("test-queued-inbox-lag")
    inbox = InboxFactory(settings=EmailAdapter.validate_settings({"address": corpus.SUPPORT, "import": "queued"}))
    rowcache.clear_local()  # the process's 5-s window starts with this warm-up, not with an earlier test's read
    assert post_mail(inbox, _mail(0)).status_code == 202  # the cache holds it now
    yield inbox
    drain_starting(inbox_id=inbox.pk)


def _elsewhere(inbox: Inbox, **changes) -> None:
    """Change the inbox as another process would: in the database, announced in Redis, this process not told."""
    Inbox.objects.filter(pk=inbox.pk).update(**changes)
    shared_redis().set(token_key(), "another process's change")


def test_an_inbox_deactivated_elsewhere_refuses_mail_at_once_and_stores_nothing(queued, post_mail):
    _elsewhere(queued, is_active=False)

    response = post_mail(queued, _mail(1))

    assert response.status_code == 404
    assert response.json()["detail"] == "No active e-mail inbox has this address."
    assert not InboundReceipt.objects.filter(key="lag-1@example.org").exists()
    # a mail it already has is not answered as a duplicate either: the inbox is gone for its senders
    assert post_mail(queued, _mail(0)).status_code == 404


def test_an_old_token_refuses_mail_at_once_after_the_token_changed_elsewhere(queued, post_mail):
    _elsewhere(queued, token="a-new-secret-token-given-elsewhere")

    assert post_mail(queued, _mail(1)).status_code == 404  # ``queued`` still carries the old token
    assert InboundReceipt.objects.filter(inbox=queued).count() == 1


def test_a_burst_of_queued_mail_does_not_read_the_cache_generation_for_each_mail(queued, post_mail):
    redis_counter = bench_module("email_accept_cpu").RedisCounter  # every Redis command this process sends

    with redis_counter() as redis_commands, CaptureQueriesContext(connection) as captured:
        for n in range(1, 11):
            assert post_mail(queued, _mail(n)).status_code == 202

    sent = [command.split()[0] for command in redis_commands.commands]
    assert sent.count("GET") <= 1, sent  # at most one read of the generation in the window, not one per mail
    assert len(captured.captured_queries) == 10  # still one statement per mail: the guarded INSERT
    assert all("WHERE EXISTS" in query["sql"] for query in captured.captured_queries)


def test_settings_changed_elsewhere_apply_within_the_lag_and_those_changed_here_at_once(queued, post_mail):
    immediate = EmailAdapter.validate_settings({"address": corpus.SUPPORT, "import": "immediate"})
    _elsewhere(queued, settings=immediate)
    assert post_mail(queued, _mail(1)).status_code == 202  # still queued: read under the generation seen before
    assert QUEUED_SETTINGS_LAG_SECONDS <= 5

    queued.refresh_from_db()
    queued.settings = immediate
    queued.save()  # in this process: its caches are emptied as it commits
    assert post_mail(queued, _mail(2)).status_code == 201  # imported at once
