"""The shared task machinery: dead letters, bounded countdowns, sending on commit only."""

import uuid

import pytest
import redis
from django.conf import settings as django_settings
from django.db import transaction
from django.urls import reverse

from config.celery import app as celery_app
from config.tasks import DELIVERY_KEY, check_countdown
from crm.choices import InteractionStatus, SurveyStatus
from crm.deadletters.models import DeadLetter
from crm.surveys.models import Survey
from crm.surveys.tasks import survey_dispatch_task
from tests.crm.factories import DeadLetterFactory, QueueFactory, interaction_in_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_queue():
    """A queue of our own on the real Redis broker: what is published shows up there, and nowhere else."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = name
    client = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    yield client, name
    celery_app.conf.task_default_queue = previous
    client.delete(name)


def test_a_countdown_beyond_the_visibility_timeout_is_refused(settings):
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600}
    check_countdown(600)
    with pytest.raises(ValueError, match="visibility timeout"):
        check_countdown(601)
    with pytest.raises(ValueError):
        survey_dispatch_task.apply_async((1,), countdown=3600)


def test_a_survey_due_later_than_the_broker_keeps_is_left_to_the_sweep(
    settings, broker_queue, django_capture_on_commit_callbacks
):
    client, name = broker_queue
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600}
    settings.SURVEY_DISPATCH_DELAY = 7200
    interaction = interaction_in_status(
        InteractionStatus.ACTIVE, channel="email", queue=QueueFactory(channels=["email"])
    )
    from crm.interactions import services as lifecycle

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.interaction_resolve(interaction=interaction)
    assert Survey.objects.get().status == SurveyStatus.PENDING
    tasks = [m for m in client.lrange(name, 0, -1) if b"survey_dispatch_task" in m]
    assert tasks == []


def test_a_message_started_too_often_is_parked_and_not_run(settings, eager_tasks):
    settings.CELERY_MAX_DELIVERIES = 3
    task_id = str(uuid.uuid4())
    client = redis.Redis.from_url(django_settings.REDIS_URL)
    # three starts whose worker died before finishing
    client.set(DELIVERY_KEY.format(task_id=task_id, retries=0), 3, ex=60)

    survey_dispatch_task.apply(args=(424242,), task_id=task_id)

    letter = DeadLetter.objects.get(task_id=task_id)
    assert letter.task_name == "crm.tasks.survey_dispatch_task" and letter.args == [424242]
    assert letter.delivery_count == 3 and "without finishing" in letter.exception
    client.delete(DELIVERY_KEY.format(task_id=task_id, retries=0))


def test_a_finished_task_forgets_its_count(eager_tasks):
    task_id = str(uuid.uuid4())
    survey_dispatch_task.apply(args=(424242,), task_id=task_id)
    client = redis.Redis.from_url(django_settings.REDIS_URL)
    assert client.get(DELIVERY_KEY.format(task_id=task_id, retries=0)) is None
    assert not DeadLetter.objects.exists()


def test_a_task_that_fails_for_good_is_parked(eager_tasks):
    task_id = str(uuid.uuid4())
    result = survey_dispatch_task.apply(args=("not an id",), task_id=task_id, throw=False)
    assert result.failed()
    letter = DeadLetter.objects.get(task_id=task_id)
    assert letter.args == ["not an id"] and "ValueError" in letter.exception


def test_the_admin_queues_a_dead_letter_again(admin_client, broker_queue):
    client, name = broker_queue
    letter = DeadLetterFactory(task_name="crm.tasks.survey_dispatch_task", args=[5])
    response = admin_client.post(
        reverse("admin:crm_deadletter_changelist"), {"action": "requeue", "_selected_action": [letter.pk]}
    )
    assert response.status_code == 302
    letter.refresh_from_db()
    assert letter.requeued_at is not None
    assert client.llen(name) == 1 and b"survey_dispatch_task" in client.lindex(name, 0)


@pytest.mark.django_db(transaction=True)
def test_a_task_sent_in_a_transaction_that_rolls_back_is_never_published(broker_queue):
    client, name = broker_queue
    with pytest.raises(RuntimeError), transaction.atomic():
        survey_dispatch_task.delay_on_commit(1)
        raise RuntimeError("rolled back")
    assert client.llen(name) == 0

    with transaction.atomic():
        survey_dispatch_task.delay_on_commit(1)
        assert client.llen(name) == 0  # not before the commit
    assert client.llen(name) == 1


def test_a_failed_periodic_sweep_is_not_parked(eager_tasks, settings):
    from crm.surveys.tasks import survey_publish_due_task

    sweep_id, dispatch_id = str(uuid.uuid4()), str(uuid.uuid4())
    survey_publish_due_task.apply(kwargs={"unexpected": 1}, task_id=sweep_id, throw=False)
    survey_dispatch_task.apply(kwargs={"unexpected": 1}, task_id=dispatch_id, throw=False)
    assert list(DeadLetter.objects.values_list("task_id", flat=True)) == [dispatch_id]
