"""The supervisor's cockpit in the admin, driven through Django's test client as a Supervisor-group user."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agents.breaks import break_request, break_send_now, break_type_get
from agents.choices import AgentStatus, BreakKind, BreakStatus, SupervisorActionKind, TrainingStatus
from agents.models import Break, SupervisorAction, TrainingRecord
from agents.services import agent_set_status
from agents.training import training_assign, training_record_result
from tests.agents.factories import AgentFactory, TeamFactory, TrainingCourseFactory, UserFactory
from tests.crm.groups import default_groups

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def groups(db):
    default_groups()


@pytest.fixture
def teams(db):
    return TeamFactory(name="Mine"), TeamFactory(name="Theirs")


@pytest.fixture
def supervisor(teams):
    user = UserFactory(username="sup", is_staff=True)
    user.groups.add(Group.objects.get(name="Supervisor"))
    teams[0].supervisors.add(user)
    return user


@pytest.fixture
def sup_client(supervisor):
    client = Client()
    client.force_login(supervisor)
    return client


@pytest.fixture
def mine(teams):
    agent = AgentFactory(team=teams[0], name="Mina Mine")
    agent_set_status(agent=agent, status=AgentStatus.AVAILABLE)
    return agent


@pytest.fixture
def theirs(teams):
    agent = AgentFactory(team=teams[1], name="Theo Theirs")
    agent_set_status(agent=agent, status=AgentStatus.AVAILABLE)
    return agent


def _results(response) -> str:
    """The changelist's result table only (the filter sidebar names every course and team)."""
    html = response.content.decode()
    if 'id="result_list"' not in html:
        return ""
    return html.split('id="result_list"', 1)[1].split("</table>", 1)[0]


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_board_lists_only_my_teams_agents_with_live_figures(sup_client, mine, theirs):
    break_send_now(agent=mine, actor=None)
    response = sup_client.get(reverse("admin:agents_agent_board"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Mina Mine" in html and "Theo Theirs" not in html
    assert "On break" in html and "End break" in html
    # live over the wallboard's socket (tests/browser/test_agent_board.py), no reloading page
    assert 'http-equiv="refresh"' not in html and "console/board.js" in html and "data-since=" in html


def test_supervisor_sends_own_agent_on_break_from_the_board_and_it_is_logged(sup_client, supervisor, mine):
    response = sup_client.post(reverse("admin:agents_agent_board_operation", args=[mine.pk]), {"op": "send_break"})

    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.status == AgentStatus.ON_BREAK
    brk = Break.objects.get(agent=mine)
    assert (brk.status, brk.break_type.code, brk.approved_by) == (BreakStatus.STARTED, BreakKind.WELL_BEING, supervisor)
    assert SupervisorAction.objects.filter(kind=SupervisorActionKind.BREAK_STARTED, actor=supervisor).exists()

    sup_client.post(reverse("admin:agents_agent_board_operation", args=[mine.pk]), {"op": "end_break"})
    mine.refresh_from_db()
    assert mine.status == AgentStatus.AVAILABLE


def test_board_refuses_another_teams_agent(sup_client, theirs):
    for op in ["send_break", "set_status"]:
        response = sup_client.post(
            reverse("admin:agents_agent_board_operation", args=[theirs.pk]), {"op": op, "status": "offline"}
        )
        assert response.status_code == 403
    theirs.refresh_from_db()
    assert theirs.status == AgentStatus.AVAILABLE
    assert not Break.objects.exists() and not SupervisorAction.objects.exists()


def test_board_sets_status_and_ends_a_running_break(sup_client, supervisor, mine):
    break_send_now(agent=mine, actor=None)
    sup_client.post(
        reverse("admin:agents_agent_board_operation", args=[mine.pk]), {"op": "set_status", "status": "offline"}
    )
    mine.refresh_from_db()
    assert mine.status == AgentStatus.OFFLINE
    assert Break.objects.get().status == BreakStatus.ENDED
    assert SupervisorAction.objects.filter(kind=SupervisorActionKind.STATUS_SET, actor=supervisor).exists()


def test_board_operation_refusal_is_a_message_not_an_error(sup_client, mine):
    response = sup_client.post(
        reverse("admin:agents_agent_board_operation", args=[mine.pk]), {"op": "set_status", "status": "on_break"}
    )
    assert response.status_code == 302
    assert any("Mina Mine: Select a valid choice" in m for m in _messages(response))
    mine.refresh_from_db()
    assert mine.status == AgentStatus.AVAILABLE


def test_agent_list_and_change_form_hide_other_teams(sup_client, mine, theirs):
    listing = sup_client.get(reverse("admin:agents_agent_changelist")).content.decode()
    assert "Mina Mine" in listing and "Theo Theirs" not in listing
    assert sup_client.get(reverse("admin:agents_agent_change", args=[mine.pk])).status_code == 200
    assert sup_client.get(reverse("admin:agents_agent_change", args=[theirs.pk])).status_code == 404  # "not found"


def test_break_actions_approve_and_deny_only_within_my_teams(sup_client, supervisor, mine, theirs):
    own = break_request(agent=mine, break_type=break_type_get(code=BreakKind.LUNCH), actor=mine.user)
    other = break_request(agent=theirs, break_type=break_type_get(code=BreakKind.LUNCH), actor=theirs.user)

    sup_client.post(
        reverse("admin:agents_break_changelist"), {"action": "approve", "_selected_action": [own.pk, other.pk]}
    )

    own.refresh_from_db()
    other.refresh_from_db()
    assert (own.status, own.approved_by) == (BreakStatus.APPROVED, supervisor)
    assert other.status == BreakStatus.REQUESTED
    sup_client.post(reverse("admin:agents_break_changelist"), {"action": "start", "_selected_action": [own.pk]})
    mine.refresh_from_db()
    assert mine.status == AgentStatus.ON_BREAK


def test_assign_course_to_many_agents_through_the_action(sup_client, supervisor, teams, mine, theirs):
    second = AgentFactory(team=teams[0])
    course = TrainingCourseFactory(title="GDPR basics")
    url = reverse("admin:agents_agent_changelist")
    selected = [mine.pk, second.pk, theirs.pk]

    confirm = sup_client.post(url, {"action": "assign_course_action", "_selected_action": selected})
    assert confirm.status_code == 200 and "Assign a training course" in confirm.content.decode()
    sup_client.post(
        url, {"action": "assign_course_action", "_selected_action": selected, "apply": "1", "course": course.pk}
    )

    assigned = TrainingRecord.objects.filter(course=course)
    assert sorted(assigned.values_list("agent_id", flat=True)) == sorted([mine.pk, second.pk])
    assert {r.assigned_by for r in assigned} == {supervisor}


def test_record_a_result_in_the_training_record_form(sup_client, supervisor, mine):
    course = TrainingCourseFactory(pass_score=70)
    (record,) = training_assign(course=course, agents=[mine]).created
    response = sup_client.post(
        reverse("admin:agents_trainingrecord_change", args=[record.pk]),
        {"score": "75", "completed_at_0": "", "completed_at_1": ""},
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert (record.status, record.score) == (TrainingStatus.PASSED, 75)
    assert SupervisorAction.objects.filter(kind=SupervisorActionKind.TRAINING_RESULT, actor=supervisor).exists()


def test_training_filters_overdue_and_expiring_and_hide_other_teams(sup_client, mine, theirs):
    overdue_course, expiring_course, fine_course = (TrainingCourseFactory(title=t) for t in ["Late", "Soon", "Fine"])
    (overdue,) = training_assign(course=overdue_course, agents=[mine]).created
    TrainingRecord.objects.filter(pk=overdue.pk).update(due_at=timezone.now() - timedelta(days=1))
    for course, days in [(expiring_course, 10), (fine_course, 200)]:
        (record,) = training_assign(course=course, agents=[mine, theirs]).created[:1]
        training_record_result(record=record, score=100)
        TrainingRecord.objects.filter(pk=record.pk).update(expires_at=timezone.now() + timedelta(days=days))
    url = reverse("admin:agents_trainingrecord_changelist")

    overdue_html = _results(sup_client.get(url, {"attention": "overdue"}))
    expiring_html = _results(sup_client.get(url, {"attention": "expiring"}))
    all_html = _results(sup_client.get(url))

    assert "Late" in overdue_html and "Soon" not in overdue_html
    assert "Soon" in expiring_html and "Fine" not in expiring_html and "Late" not in expiring_html
    assert "Mina Mine" in all_html and "Theo Theirs" not in all_html


def test_supervision_log_is_read_only_and_scoped(sup_client, mine, theirs):
    break_send_now(agent=mine, actor=None)
    break_send_now(agent=theirs, actor=None)
    html = sup_client.get(reverse("admin:agents_supervisoraction_changelist")).content.decode()
    assert "Mina Mine" in html and "Theo Theirs" not in html
    row = SupervisorAction.objects.filter(agent=mine).first()
    page = sup_client.get(reverse("admin:agents_supervisoraction_change", args=[row.pk]))
    assert page.status_code == 200 and b'name="_save"' not in page.content


def test_superuser_sees_everyone_on_the_board(admin_client, mine, theirs):
    html = admin_client.get(reverse("admin:agents_agent_board")).content.decode()
    assert "Mina Mine" in html and "Theo Theirs" in html


def test_a_plain_staff_user_without_supervisor_permissions_cannot_open_the_board(mine):
    client = Client()
    client.force_login(UserFactory(is_staff=True))
    assert client.get(reverse("admin:agents_agent_board")).status_code == 403


def test_status_log_shows_only_my_teams_agents(sup_client, mine, theirs):
    html = _results(sup_client.get(reverse("admin:agents_agentstatuslog_changelist")))
    assert "Mina Mine" in html and "Theo Theirs" not in html
