"""The SLA clocks on the interaction and the sweep that records and runs escalation steps."""

import threading
from datetime import time, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.errors import DomainError, IllegalTransition
from crm.choices import InteractionEventKind, InteractionStatus, MessageDirection, Priority
from crm.interactions import services as lifecycle
from crm.interactions.models import Interaction, InteractionEvent
from crm.interactions.services.messages import message_create
from crm.sla.models import Escalation
from crm.sla.services.business_hours import add_business_seconds, calendar_for
from crm.sla.services.calendars import PeriodSpec, business_hours_create, business_hours_update
from crm.sla.services.engine import sla_recompute_open
from crm.sla.services.policies import TargetSpec, sla_policy_create, sla_policy_update
from crm.sla.services.state import sla_state
from crm.sla.services.sweep import sla_sweep
from crm.sla.signals import sla_breached, sla_breaches, sla_warning
from crm.webhooks.models import WebhookDelivery
from tests.agents.factories import TeamFactory, UserFactory
from tests.crm.factories import QueueFactory, WebhookFactory, interaction_in_status

pytestmark = pytest.mark.django_db

S = InteractionStatus


def policy(*, first=600, next_response=None, resolution=None, steps=(), pause_on_hold=False, business_hours=None):
    return sla_policy_create(
        name=f"Policy {first}-{next_response}-{resolution}-{len(steps)}-{pause_on_hold}",
        default_target=TargetSpec(
            channel="", priority=None, first_response_seconds=first, next_response_seconds=next_response,
            resolution_seconds=resolution,
        ),
        escalation_steps=list(steps),
        pause_on_hold=pause_on_hold,
        business_hours=business_hours,
    )  # fmt: skip


def queue_with(sla_policy, **kwargs):
    return QueueFactory(channels=["chat"], sla_policy=sla_policy, **kwargs)


def in_status(status, sla_policy, **kwargs):
    return interaction_in_status(status, queue=queue_with(sla_policy), **kwargs)


def fresh(interaction) -> Interaction:
    return Interaction.objects.get(pk=interaction.pk)


def age_last_event(interaction, seconds):
    event = InteractionEvent.objects.filter(interaction=interaction).order_by("-id").first()
    InteractionEvent.objects.filter(pk=event.pk).update(at=event.at - timedelta(seconds=seconds))


@pytest.fixture
def received():
    """The SLA signals sent (after commit), as (signal name, kwargs)."""
    seen = []

    def on_breach(sender, **kwargs):
        seen.append(("breached", kwargs))

    def on_warning(sender, **kwargs):
        seen.append(("warning", kwargs))

    sla_breached.connect(on_breach, dispatch_uid="test-breach")
    sla_warning.connect(on_warning, dispatch_uid="test-warning")
    yield seen
    sla_breached.disconnect(dispatch_uid="test-breach")
    sla_warning.disconnect(dispatch_uid="test-warning")


# --- due times ---------------------------------------------------------------------------------------------------


def test_due_times_count_business_hours_of_the_policys_calendar():
    office = business_hours_create(
        name="Office", time_zone="Europe/Berlin", periods=[PeriodSpec(d, time(9), time(17)) for d in range(5)]
    )
    interaction = in_status(S.QUEUED, policy(first=3600, resolution=4 * 3600, business_hours=office))

    stored = fresh(interaction)
    calendar = calendar_for(office)
    assert stored.first_response_due_at == add_business_seconds(calendar, stored.sla_started_at, 3600)
    assert stored.resolution_due_at == add_business_seconds(calendar, stored.sla_started_at, 4 * 3600)
    assert stored.sla_next_check_at == stored.first_response_due_at


def test_clocks_freeze_at_resolution():
    interaction = in_status(S.ACTIVE, policy(first=60, resolution=600))
    due = (fresh(interaction).first_response_due_at, fresh(interaction).resolution_due_at)

    lifecycle.interaction_resolve(interaction=interaction)
    lifecycle.interaction_update(interaction=interaction, priority=Priority.URGENT)

    stored = fresh(interaction)
    assert (stored.first_response_due_at, stored.resolution_due_at) == due
    assert stored.sla_next_check_at is None
    assert sla_sweep(now=timezone.now() + timedelta(days=30)) == 0
    state = sla_state(interaction=stored, now=timezone.now() + timedelta(days=30))
    assert state.remaining_seconds == {"first_response": None, "next_response": None, "resolution": None}
    assert state.breached == []  # resolved in time: it stays on time however late one looks


def test_hold_pauses_the_clocks_and_resume_shifts_them_by_the_time_on_hold():
    interaction = in_status(S.ACTIVE, policy(first=3600, resolution=7200, pause_on_hold=True))
    # the clock started twenty minutes ago
    started = fresh(interaction).sla_started_at - timedelta(minutes=20)
    Interaction.objects.filter(pk=interaction.pk).update(sla_started_at=started)

    lifecycle.interaction_hold(interaction=interaction)
    held = fresh(interaction)
    assert held.sla_paused_at is not None and held.sla_next_check_at is None
    assert held.resolution_due_at == started + timedelta(seconds=7200)
    assert sla_state(interaction=held).paused is True
    age_last_event(interaction, 600)  # it went on hold ten minutes ago

    lifecycle.interaction_resume(interaction=interaction)

    resumed = fresh(interaction)
    assert resumed.sla_paused_at is None
    shift = resumed.resolution_due_at - (started + timedelta(seconds=7200))
    assert timedelta(seconds=600) <= shift < timedelta(seconds=603)
    assert resumed.first_response_due_at == started + timedelta(seconds=3600) + shift
    assert resumed.sla_next_check_at == resumed.first_response_due_at


def test_hold_does_not_pause_when_the_policy_says_not_to():
    interaction = in_status(S.ACTIVE, policy(first=3600, pause_on_hold=False))
    due = fresh(interaction).first_response_due_at

    lifecycle.interaction_hold(interaction=interaction)
    age_last_event(interaction, 600)
    lifecycle.interaction_resume(interaction=interaction)

    assert fresh(interaction).first_response_due_at == due
    assert fresh(interaction).sla_paused_at is None


def test_a_customer_reply_after_an_answer_starts_the_next_response_clock_and_an_answer_stops_it():
    interaction = in_status(S.ACTIVE, policy(first=600, next_response=300))
    message_create(interaction=interaction, direction=MessageDirection.INBOUND, body="hello?")
    assert fresh(interaction).next_response_due_at is None  # nothing answered yet: the first-response clock runs

    message_create(interaction=interaction, direction=MessageDirection.OUTBOUND, body="Hi!")
    answered = fresh(interaction)
    assert answered.first_response_at is not None and answered.next_response_due_at is None

    message_create(interaction=interaction, direction=MessageDirection.INBOUND, body="and now?")
    message_create(interaction=interaction, direction=MessageDirection.INBOUND, body="hello??")
    waiting = fresh(interaction)
    assert waiting.next_response_due_at == waiting.next_response_from + timedelta(seconds=300)
    assert waiting.sla_next_check_at == waiting.next_response_due_at

    message_create(interaction=interaction, direction=MessageDirection.OUTBOUND, body="Done.")
    stored = fresh(interaction)
    assert (stored.next_response_from, stored.next_response_due_at) == (None, None)


def test_a_priority_change_recomputes_with_the_priority_target():
    sla_policy = policy(first=600)
    sla_policy_update(
        policy=sla_policy,
        data={},
        targets=[TargetSpec(channel="", priority=Priority.URGENT, first_response_seconds=60)],
    )
    interaction = in_status(S.QUEUED, sla_policy)
    started = fresh(interaction).sla_started_at

    lifecycle.interaction_update(interaction=interaction, priority=Priority.URGENT)

    assert fresh(interaction).first_response_due_at == started + timedelta(seconds=60)


def test_reopening_starts_a_new_run_of_the_clocks():
    interaction = in_status(S.RESOLVED, policy(first=60, resolution=600))
    old = fresh(interaction)

    lifecycle.interaction_reopen(interaction=interaction)

    stored = fresh(interaction)
    assert stored.sla_started_at > old.sla_started_at
    assert stored.resolution_due_at == stored.sla_started_at + timedelta(seconds=600)
    assert stored.sla_next_check_at == stored.first_response_due_at  # never answered: that clock runs again too


def test_a_policy_change_recomputes_open_interactions_but_not_resolved_ones(
    eager_tasks, django_capture_on_commit_callbacks
):
    sla_policy = policy(first=600, resolution=6000)
    waiting = in_status(S.QUEUED, sla_policy)
    done = in_status(S.RESOLVED, sla_policy)
    done_due = fresh(done).resolution_due_at

    with django_capture_on_commit_callbacks(execute=True):
        sla_policy_update(
            policy=sla_policy,
            data={},
            default_target=TargetSpec(channel="", priority=None, first_response_seconds=60, resolution_seconds=120),
        )

    stored = fresh(waiting)
    assert stored.first_response_due_at == stored.sla_started_at + timedelta(seconds=60)
    assert stored.resolution_due_at == stored.sla_started_at + timedelta(seconds=120)
    assert fresh(done).resolution_due_at == done_due


def test_a_calendar_change_recomputes_open_interactions(eager_tasks, django_capture_on_commit_callbacks):
    office = business_hours_create(
        name="Office", time_zone="UTC", periods=[PeriodSpec(d, time(0), time(0)) for d in range(7)]
    )
    interaction = in_status(S.QUEUED, policy(first=3600, business_hours=office))
    started = fresh(interaction).sla_started_at
    assert fresh(interaction).first_response_due_at == started + timedelta(hours=1)

    with django_capture_on_commit_callbacks(execute=True):
        business_hours_update(calendar=office, data={"time_zone": "Europe/Berlin"}, periods=[
            PeriodSpec(d, time(9), time(17)) for d in range(5)
        ])  # fmt: skip

    office.refresh_from_db()
    assert fresh(interaction).first_response_due_at == add_business_seconds(calendar_for(office), started, 3600)


def test_recomputation_runs_in_batches_and_reports_what_changed():
    sla_policy = policy(first=600)
    interactions = [in_status(S.QUEUED, sla_policy) for _ in range(5)]
    Interaction.objects.filter(pk__in=[i.pk for i in interactions]).update(first_response_due_at=None)

    assert sla_recompute_open(policy_ids=[sla_policy.pk], batch_size=2) == 5
    assert sla_recompute_open(policy_ids=[sla_policy.pk], batch_size=2) == 0
    assert not Interaction.objects.filter(pk__in=[i.pk for i in interactions], first_response_due_at=None).exists()


# --- the sweep ---------------------------------------------------------------------------------------------------


def test_a_warning_comes_before_the_breach_each_stamped_with_its_due_time(received, django_capture_on_commit_callbacks):
    steps = [{"target": "first_response", "action": "warn", "at": 0.8}]
    interaction = in_status(S.QUEUED, policy(first=100, steps=steps))
    started = fresh(interaction).sla_started_at

    with django_capture_on_commit_callbacks(execute=True):
        assert sla_sweep(now=started + timedelta(seconds=79)) == 0
        assert sla_sweep(now=started + timedelta(seconds=90)) == 1
    assert [name for name, _ in received] == ["warning"]
    warning = Escalation.objects.get()
    assert (warning.kind, warning.step, warning.due_at) == ("warn", 1, started + timedelta(seconds=80))
    assert fresh(interaction).sla_next_check_at == started + timedelta(seconds=100)

    with django_capture_on_commit_callbacks(execute=True):
        assert sla_sweep(now=started + timedelta(seconds=500)) == 1
        assert sla_sweep(now=started + timedelta(seconds=900)) == 0
    breach = Escalation.objects.get(kind="breach")
    assert (breach.target, breach.step, breach.due_at) == ("first_response", 0, started + timedelta(seconds=100))
    assert [name for name, _ in received] == ["warning", "breached"]
    assert received[1][1]["interaction_id"] == interaction.pk and received[1][1]["target"] == "first_response"
    assert fresh(interaction).sla_next_check_at is None
    assert sla_state(interaction=fresh(interaction), now=started + timedelta(seconds=500)).breached == [
        "first_response"
    ]


def test_a_repeated_sweep_of_a_row_it_already_handled_records_nothing_and_sends_nothing(
    received, django_capture_on_commit_callbacks
):
    interaction = in_status(S.QUEUED, policy(first=100))
    later = fresh(interaction).sla_started_at + timedelta(seconds=200)
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_sweep(now=later) == 1
        # as if a stale plan pointed the row at the same step again
        Interaction.objects.filter(pk=interaction.pk).update(sla_next_check_at=later)
        assert sla_sweep(now=later) == 0

    assert Escalation.objects.count() == 1
    assert len(received) == 1


def test_the_next_response_clock_breaches_once_per_customer_reply():
    interaction = in_status(S.ACTIVE, policy(first=6000, next_response=60))
    message_create(interaction=interaction, direction=MessageDirection.OUTBOUND, body="Hi")
    for _ in range(2):
        message_create(interaction=interaction, direction=MessageDirection.INBOUND, body="?")
        sla_sweep(now=fresh(interaction).next_response_from + timedelta(seconds=61))
        message_create(interaction=interaction, direction=MessageDirection.OUTBOUND, body="Sorry")

    assert Escalation.objects.filter(target="next_response", kind="breach").count() == 2


def test_notify_supervisors_emails_the_queue_teams_supervisors(django_capture_on_commit_callbacks):
    team = TeamFactory()
    boss, no_email = UserFactory(email="boss@example.com"), UserFactory(email="")
    team.supervisors.add(boss, no_email)
    steps = [{"target": "first_response", "action": "notify_supervisors", "after_seconds": 30}]
    interaction = interaction_in_status(S.QUEUED, queue=queue_with(policy(first=100, steps=steps), team=team))
    started = fresh(interaction).sla_started_at

    with django_capture_on_commit_callbacks(execute=True):
        sla_sweep(now=started + timedelta(seconds=110))  # breached, but the step is 30 s after
        assert mail.outbox == []
        sla_sweep(now=started + timedelta(seconds=131))

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["boss@example.com"]
    assert f"#{interaction.pk}" in mail.outbox[0].subject
    step = Escalation.objects.get(step=1)
    assert (step.kind, step.due_at, step.outcome) == (
        "breach",
        started + timedelta(seconds=130),
        "emailed 1 supervisor(s)",
    )


def test_raise_priority_goes_through_the_lifecycle_and_is_logged():
    steps = [{"target": "first_response", "action": "raise_priority", "at": 0.5}]
    interaction = in_status(S.QUEUED, policy(first=100, steps=steps))

    sla_sweep(now=fresh(interaction).sla_started_at + timedelta(seconds=60))

    assert fresh(interaction).priority == Priority.HIGH
    event = InteractionEvent.objects.get(interaction=interaction, kind=InteractionEventKind.UPDATED)
    assert event.data == {"priority": {"from": Priority.NORMAL, "to": Priority.HIGH}}


@pytest.mark.parametrize("status", [S.QUEUED, S.ACTIVE])
def test_move_to_queue_moves_queued_or_held_work_to_the_escalation_queue(status, eager_tasks):
    escalation_queue = QueueFactory(channels=["chat"], name="Escalations")
    steps = [{"target": "first_response", "action": "move_to_queue", "at": 1, "queue": escalation_queue.pk}]
    interaction = in_status(status, policy(first=100, steps=steps))
    due = fresh(interaction).first_response_due_at

    sla_sweep(now=due + timedelta(seconds=1))

    stored = fresh(interaction)
    assert (stored.queue_id, stored.status, stored.agent_id) == (escalation_queue.pk, S.QUEUED, None)
    assert stored.first_response_due_at == due  # the customer's promise does not move with the work
    kind = InteractionEventKind.ESCALATED if status == S.QUEUED else InteractionEventKind.TRANSFERRED
    assert InteractionEvent.objects.filter(interaction=interaction, kind=kind).exists()
    assert Escalation.objects.get(step=1).outcome == f"moved to queue {escalation_queue.pk}"


def test_a_refused_action_is_recorded_as_its_outcome_and_the_sweep_goes_on():
    elsewhere = QueueFactory(channels=["email"])  # cannot take a chat
    steps = [{"target": "first_response", "action": "move_to_queue", "at": 1, "queue": elsewhere.pk}]
    interaction = in_status(S.QUEUED, policy(first=100, steps=steps))

    assert sla_sweep(now=fresh(interaction).first_response_due_at + timedelta(seconds=1)) == 2

    assert Escalation.objects.get(step=1).outcome.startswith("refused:")
    assert fresh(interaction).queue_id != elsewhere.pk


def test_the_sweeps_queries_do_not_grow_with_what_is_due_or_open():
    sla_policy = policy(first=100, steps=[{"target": "first_response", "action": "warn", "at": 0.5}])

    def sweep_queries(due_count: int) -> int:
        due = [in_status(S.QUEUED, sla_policy) for _ in range(due_count)]
        in_status(S.QUEUED, policy(first=100_000 + due_count))  # open, not due
        now = max(fresh(i).first_response_due_at for i in due) + timedelta(seconds=1)
        with CaptureQueriesContext(connection) as queries:
            assert sla_sweep(now=now) == 2 * due_count
        return len(queries)

    assert sweep_queries(2) == sweep_queries(6)


def test_a_sweep_tells_its_breaches_at_once_and_its_after_commit_queries_do_not_grow(
    django_capture_on_commit_callbacks,
):
    sla_policy = policy(first=100)
    batches = []

    def on_breaches(sender, *, breaches, **kwargs):
        batches.append(breaches)

    sla_breaches.connect(on_breaches, dispatch_uid="test-breaches")

    def sweep_queries(due_count: int) -> int:
        due = [in_status(S.QUEUED, sla_policy) for _ in range(due_count)]
        now = max(fresh(i).first_response_due_at for i in due) + timedelta(seconds=1)
        # the live events' publisher runs after the commit: counted too
        with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
            assert sla_sweep(now=now) == due_count
        assert sorted(b["interaction_id"] for b in batches[-1]) == sorted(i.pk for i in due)
        return len(queries)

    try:
        assert sweep_queries(2) == sweep_queries(6)
    finally:
        sla_breaches.disconnect(dispatch_uid="test-breaches")
    assert [len(b) for b in batches] == [2, 6]


def test_the_sweeps_query_uses_the_partial_index():
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT id FROM crm_interaction WHERE sla_next_check_at <= now() ORDER BY sla_next_check_at"
        )
        plan = " ".join(row[0] for row in cursor.fetchall())
    assert "interaction_sla_check" in plan


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_record_each_breach_once():
    sla_policy = policy(first=100, steps=[{"target": "first_response", "action": "warn", "at": 0.5}])
    interactions = [in_status(S.QUEUED, sla_policy) for _ in range(20)]
    now = max(fresh(i).first_response_due_at for i in interactions) + timedelta(seconds=1)
    barrier = threading.Barrier(2)
    recorded = []

    def sweep():
        try:
            barrier.wait()
            # small batches, so the two sweeps interleave over the rows instead of one taking them all
            while count := sla_sweep(now=now, limit=3):
                recorded.append(count)
        finally:
            connection.close()

    workers = [threading.Thread(target=sweep) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert sum(recorded) == 40
    assert Escalation.objects.count() == 40
    assert Escalation.objects.filter(kind="breach").count() == 20
    assert sla_sweep(now=now + timedelta(hours=1)) == 0


def test_beat_runs_the_sweep_task_every_few_seconds(eager_tasks, settings):
    from crm.sla.tasks import sla_sweep_task

    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "crm.tasks.sla_sweep_task")
    assert entry["schedule"] <= 5
    interaction = in_status(S.QUEUED, policy(first=100))
    Interaction.objects.filter(pk=interaction.pk).update(
        sla_started_at=timezone.now() - timedelta(seconds=200), sla_next_check_at=timezone.now()
    )

    assert sla_sweep_task.delay().get() == 1
    # the sweep re-planned the row from its (earlier) start: the stored due time follows
    assert fresh(interaction).first_response_due_at == fresh(interaction).sla_started_at + timedelta(seconds=100)


def test_pointing_a_queue_at_another_policy_recomputes_its_open_work(eager_tasks, django_capture_on_commit_callbacks):
    from crm.routing.services.queues import queue_update

    interaction = in_status(S.QUEUED, policy(first=600))
    faster = policy(first=60)

    with django_capture_on_commit_callbacks(execute=True):
        queue_update(queue=fresh(interaction).queue, data={"sla_policy": faster})

    stored = fresh(interaction)
    assert stored.first_response_due_at == stored.sla_started_at + timedelta(seconds=60)


def test_deactivating_a_policy_stops_its_open_clocks(eager_tasks, django_capture_on_commit_callbacks):
    sla_policy = policy(first=600)
    interaction = in_status(S.QUEUED, sla_policy)

    with django_capture_on_commit_callbacks(execute=True):
        sla_policy_update(policy=sla_policy, data={"is_active": False})

    stored = fresh(interaction)
    assert (stored.first_response_due_at, stored.sla_next_check_at) == (None, None)


def test_escalating_queued_work_refuses_its_own_queue_and_work_an_agent_holds():
    interaction = in_status(S.QUEUED, policy(first=600))
    active = in_status(S.ACTIVE, policy(first=601))

    with pytest.raises(DomainError, match="already in queue"):
        lifecycle.interaction_escalate(interaction=interaction, to_queue=fresh(interaction).queue)
    with pytest.raises(IllegalTransition):
        lifecycle.interaction_escalate(interaction=active, to_queue=QueueFactory(channels=["chat"]))
    assert not InteractionEvent.objects.filter(kind=InteractionEventKind.ESCALATED).exists()


def test_a_breach_is_told_to_webhook_subscribers_once_in_the_sweeps_transaction():
    hook = WebhookFactory(events=["sla.breached"])
    WebhookFactory(events=["interaction.resolved"])  # not subscribed: hears nothing
    interaction = in_status(S.QUEUED, policy(first=100))
    later = fresh(interaction).sla_started_at + timedelta(seconds=200)

    assert sla_sweep(now=later) == 1
    Interaction.objects.filter(pk=interaction.pk).update(sla_next_check_at=later)
    assert sla_sweep(now=later) == 0

    delivery = WebhookDelivery.objects.get(event_type="sla.breached")
    assert delivery.webhook == hook
    assert delivery.payload["data"]["interaction"]["id"] == interaction.pk
    assert delivery.payload["data"]["target"] == "first_response"
    assert delivery.payload["data"]["escalation_id"] == Escalation.objects.get().pk
