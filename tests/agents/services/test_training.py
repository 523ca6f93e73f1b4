from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from agents.choices import SupervisorActionKind, TrainingStatus
from agents.models import SupervisorAction, TrainingRecord, TrainingReminder
from agents.signals import training_expired, training_expiring
from agents.training import (
    training_assign,
    training_expire_due,
    training_record_result,
    training_remind_due,
)
from config.errors import DomainError
from tests.agents.factories import AgentFactory, TeamFactory, TrainingCourseFactory, UserFactory

pytestmark = pytest.mark.django_db


def _received(signal):
    got = []

    def listener(sender, **kwargs):
        got.append(kwargs)

    signal.connect(listener, weak=False)
    return got, lambda: signal.disconnect(listener)


def test_assign_to_many_agents_skips_those_already_assigned_and_logs_who_assigned():
    boss = UserFactory()
    course = TrainingCourseFactory()
    first, second, third = AgentFactory.create_batch(3)
    training_assign(course=course, agents=[first], actor=boss)

    result = training_assign(course=course, agents=[first, second, third], actor=boss)

    assert sorted(r.agent_id for r in result.created) == sorted([second.pk, third.pk])
    assert result.skipped == [first]
    assert TrainingRecord.objects.filter(course=course, status=TrainingStatus.ASSIGNED).count() == 3
    log = SupervisorAction.objects.filter(kind=SupervisorActionKind.TRAINING_ASSIGNED)
    assert log.count() == 3 and {row.actor for row in log} == {boss}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"agents": []}, "agents"),
        ({"due_at": timezone.now() - timedelta(days=1)}, "due_at"),
    ],
)
def test_assign_rejects_bad_input_with_field_errors(kwargs, field):
    kwargs.setdefault("agents", [AgentFactory()])
    with pytest.raises(ValidationError) as exc:
        training_assign(course=TrainingCourseFactory(), **kwargs)
    assert field in exc.value.message_dict
    assert not TrainingRecord.objects.exists()


def test_assign_refuses_an_inactive_course():
    with pytest.raises(ValidationError) as exc:
        training_assign(course=TrainingCourseFactory(is_active=False), agents=[AgentFactory()])
    assert "course" in exc.value.message_dict


def test_result_at_pass_score_passes_and_expires_after_validity_days():
    course = TrainingCourseFactory(pass_score=80, validity_days=90)
    (record,) = training_assign(course=course, agents=[AgentFactory()]).created

    training_record_result(record=record, score=80)

    record.refresh_from_db()
    assert record.status == TrainingStatus.PASSED
    assert record.expires_at == record.completed_at + timedelta(days=90)


def test_result_below_pass_score_fails_without_expiry():
    (record,) = training_assign(course=TrainingCourseFactory(pass_score=80), agents=[AgentFactory()]).created
    training_record_result(record=record, score=79)
    record.refresh_from_db()
    assert (record.status, record.expires_at) == (TrainingStatus.FAILED, None)


@pytest.mark.parametrize("score", [-1, 101, "90", 9.5, True])
def test_result_refuses_scores_outside_0_100(score):
    (record,) = training_assign(course=TrainingCourseFactory(), agents=[AgentFactory()]).created
    with pytest.raises(ValidationError) as exc:
        training_record_result(record=record, score=score)
    assert "score" in exc.value.message_dict
    record.refresh_from_db()
    assert record.status == TrainingStatus.ASSIGNED


def test_result_cannot_be_recorded_twice():
    (record,) = training_assign(course=TrainingCourseFactory(), agents=[AgentFactory()]).created
    training_record_result(record=record, score=95)
    with pytest.raises(DomainError):
        training_record_result(record=record, score=10)


def _passed(agent, *, expires_in: timedelta, course=None):
    course = course or TrainingCourseFactory(validity_days=365)
    (record,) = training_assign(course=course, agents=[agent]).created
    training_record_result(record=record, score=100)
    TrainingRecord.objects.filter(pk=record.pk).update(expires_at=timezone.now() + expires_in)
    record.refresh_from_db()
    return record


@override_settings(SWITCHBOARD_TRAINING_REMINDER_DAYS=[30, 7])
def test_reminder_goes_to_agent_and_supervisors_once(django_capture_on_commit_callbacks):
    team = TeamFactory()
    boss = UserFactory(email="boss@example.com")
    team.supervisors.add(boss)
    agent = AgentFactory(team=team, user__email="agent@example.com")
    record = _passed(agent, expires_in=timedelta(days=20))
    got, stop = _received(training_expiring)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert training_remind_due() == 1
        with django_capture_on_commit_callbacks(execute=True):
            assert training_remind_due() == 0  # the same reminder is never sent twice
    finally:
        stop()

    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == ["agent@example.com", "boss@example.com"]
    assert [(g["record"].pk, g["days_left"]) for g in got] == [(record.pk, 19)]
    assert list(TrainingReminder.objects.values_list("days_before", flat=True)) == [30]
    assert SupervisorAction.objects.filter(kind=SupervisorActionKind.TRAINING_REMINDED, agent=agent).count() == 1


@override_settings(SWITCHBOARD_TRAINING_REMINDER_DAYS=[30, 7])
def test_nearer_reminder_goes_out_when_its_lead_time_arrives(django_capture_on_commit_callbacks):
    record = _passed(AgentFactory(), expires_in=timedelta(days=20))
    with django_capture_on_commit_callbacks(execute=True):
        training_remind_due()
    with django_capture_on_commit_callbacks(execute=True):
        assert training_remind_due(now=timezone.now() + timedelta(days=14)) == 1
    assert sorted(TrainingReminder.objects.filter(record=record).values_list("days_before", flat=True)) == [7, 30]
    assert len(mail.outbox) == 2


def test_expiry_marks_lapsed_passes_expired_logs_and_signals(django_capture_on_commit_callbacks):
    agent = AgentFactory()
    lapsed = _passed(agent, expires_in=timedelta(minutes=-1))
    valid = _passed(agent, expires_in=timedelta(days=3))
    got, stop = _received(training_expired)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert training_expire_due() == 1
    finally:
        stop()
    lapsed.refresh_from_db()
    valid.refresh_from_db()
    assert (lapsed.status, valid.status) == (TrainingStatus.EXPIRED, TrainingStatus.PASSED)
    assert [g["record"].pk for g in got] == [lapsed.pk]
    assert SupervisorAction.objects.filter(kind=SupervisorActionKind.TRAINING_EXPIRED, object_id=lapsed.pk).exists()
    assert training_expire_due() == 0


@override_settings(SWITCHBOARD_TRAINING_REMINDER_DAYS=[30])
def test_a_renewed_pass_gets_no_reminder_and_no_expiry_notice(django_capture_on_commit_callbacks):
    agent, course = AgentFactory(), TrainingCourseFactory(validity_days=365)
    old = _passed(agent, expires_in=timedelta(days=10), course=course)
    _passed(agent, expires_in=timedelta(days=365), course=course)  # renewed
    got, stop = _received(training_expired)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert training_remind_due() == 0
            assert training_expire_due(now=timezone.now() + timedelta(days=11)) == 1
    finally:
        stop()
    old.refresh_from_db()
    assert old.status == TrainingStatus.EXPIRED and got == [] and mail.outbox == []
