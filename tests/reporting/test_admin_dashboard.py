"""The supervisor's landing dashboard at /admin/: what it counts, for whom, the links behind each figure, and a fixed
number of queries whatever the size of the floor."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from agents.choices import AgentStatus, BreakDueReason, TrainingStatus
from agents.models import BreakDueNotice
from crm.choices import EscalationKind, InteractionStatus
from crm.quality.models import Review, Scorecard
from crm.sla.models import Escalation
from tests.agents.factories import (
    AdministratorFactory,
    AgentFactory,
    TeamFactory,
    TrainingCourseFactory,
    TrainingRecordFactory,
    UserFactory,
)
from tests.crm.factories import InteractionFactory, QueueFactory
from tests.crm.groups import default_groups

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _groups():
    default_groups()  # a transactional test elsewhere may have flushed the groups' permissions (tests.crm.groups)


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _supervisor(team, username):
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name="Supervisor"))
    team.supervisors.add(user)
    return user


def _floor(team, *, n=1, prefix=""):
    """``n`` of every thing the dashboard counts, in ``team``: queued work (one queue per unit), agents on break
    and due one, a breach in the last hour, training expiring in three days, a pending review."""
    now = timezone.now()
    card = Scorecard.objects.get_or_create(name="Dashboard card")[0]
    course = TrainingCourseFactory()
    for i in range(n):
        queue = QueueFactory(name=f"{prefix}{team.name} queue {i}", team=team)
        waiting = InteractionFactory(queue=queue, created_at=now - timedelta(minutes=3), subject=f"{team.name} {i}")
        AgentFactory(name=f"{prefix}{team.name} resting {i}", team=team, status=AgentStatus.ON_BREAK)
        tired = AgentFactory(name=f"{prefix}{team.name} tired {i}", team=team, status=AgentStatus.BUSY)
        BreakDueNotice.objects.create(
            agent=tired, reason=BreakDueReason.choices[0][0], since=now - timedelta(hours=2), due_at=now, minutes=10
        )
        Escalation.objects.create(
            interaction=waiting, target="first_response", clock_started_at=now - timedelta(minutes=30), step=0,
            kind=EscalationKind.BREACH, due_at=now - timedelta(minutes=5), created_at=now - timedelta(minutes=5),
        )  # fmt: skip
        TrainingRecordFactory(
            agent=tired,
            course=course,
            status=TrainingStatus.PASSED,
            score=90,
            completed_at=now,
            expires_at=now + timedelta(days=3),
        )
        Review.objects.create(interaction=waiting, agent=tired, scorecard=card, created_at=now)


def _card(page, key):
    """The card's (value, href) as drawn."""
    match = re.search(
        rf'data-figure="{key}">\s*<a href="([^"]+)">.*?class="figure-value">([^<]*)<', page, flags=re.DOTALL
    )
    assert match, f"no card {key}"
    return match.group(2).strip(), match.group(1).replace("&amp;", "&")


def test_a_supervisor_sees_their_teams_figures_and_never_another_teams():
    red, blue = TeamFactory(name="Red"), TeamFactory(name="Blue")
    _floor(red, n=2)
    _floor(blue, n=3)
    page = _client(_supervisor(red, "sup.red")).get("/admin/").content.decode()

    assert _card(page, "waiting")[0] == "2"
    assert _card(page, "breaches")[0] == "2"
    assert _card(page, "training")[0] == "2"
    assert _card(page, "reviews")[0] == "2"
    assert "Red queue 0" in page and "Red queue 1" in page
    assert "Blue" not in page  # no queue, agent or name of the other team
    assert re.search(r'data-status="on_break"><th scope="row">On break</th><td><a href="[^"]+">2</a>', page)
    assert "Red resting 0" in page and "Red tired 1" in page


def test_an_administrator_sees_every_team():
    red, blue = TeamFactory(name="Red"), TeamFactory(name="Blue")
    _floor(red, n=1)
    _floor(blue, n=2)

    page = _client(AdministratorFactory(username="boss")).get("/admin/").content.decode()

    assert _card(page, "waiting")[0] == "3"
    assert _card(page, "reviews")[0] == "3"
    assert "Red queue 0" in page and "Blue queue 1" in page


def test_staff_who_supervise_no_team_see_no_figures_and_no_live_socket():
    _floor(TeamFactory(name="Red"))

    page = _client(UserFactory(username="staff", is_staff=True)).get("/admin/").content.decode()

    assert _card(page, "waiting")[0] == "0"
    assert "Red" not in page
    assert "data-live-dashboard aria" in page  # no data-live: the wallboard's socket would refuse them


def test_a_plain_agent_cannot_reach_the_dashboard():
    agent = AgentFactory(user=UserFactory(username="ana"))

    response = _client(agent.user).get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_each_figure_links_to_the_changelist_that_lists_what_it_counts():
    red, blue = TeamFactory(name="Red"), TeamFactory(name="Blue")
    _floor(red, n=2)
    _floor(blue, n=1)
    client = _client(_supervisor(red, "sup.red"))
    page = client.get("/admin/").content.decode()

    for key, listed in (("waiting", "2 interactions"), ("breaches", "2 escalations"), ("training", "2 training"),
                        ("reviews", "2 reviews")):  # fmt: skip
        value, href = _card(page, key)
        response = client.get(href)
        assert response.status_code == 200, (key, href)
        assert "?e=1" not in response.get("Location", "")
        assert listed in response.content.decode(), (key, href)
    assert set(parse_qs(urlparse(_card(page, "waiting")[1]).query)) == {"status__exact"}
    assert "/admin/agents/agent/board/" in page and 'href="/wallboard/"' in page
    assert 'href="/reports/"' in page and 'href="/reports/staffing/"' in page


def test_the_grouped_navigation_stays_below_the_figures():
    page = _client(AdministratorFactory(username="boss")).get("/admin/").content.decode()

    assert page.index('id="switchboard-dashboard"') < page.index('id="switchboard-navigation"')
    assert "People" in page and "Setup" in page


@pytest.mark.parametrize("admin", [True, False], ids=["administrator", "supervisor"])
def test_the_query_count_does_not_grow_with_the_floor(own_cache_generation, admin, django_assert_max_num_queries):
    red = TeamFactory(name="Red")
    user = AdministratorFactory(username="boss") if admin else _supervisor(red, "sup.red")
    client = _client(user)
    _floor(red, n=1)
    client.get("/admin/")  # warm the session, content types and permission caches

    with django_assert_max_num_queries(20) as small:
        client.get("/admin/")
    _floor(red, n=6, prefix="more ")
    with django_assert_max_num_queries(len(small.captured_queries)) as large:
        page = client.get("/admin/").content.decode()
    assert _card(page, "waiting")[0] == "7"
    assert len(large.captured_queries) == len(small.captured_queries)


def test_the_figures_of_today_count_service_level_and_abandonment():
    red = TeamFactory(name="Red")
    queue = QueueFactory(name="Red chat", team=red, service_level_seconds=20)
    now = timezone.now()
    start = now - timedelta(minutes=10)
    base = {"queue": queue, "created_at": start, "queued_at": start}
    agent = AgentFactory(team=red, status=AgentStatus.BUSY)
    InteractionFactory(
        **base,
        agent=agent,
        status=InteractionStatus.ACTIVE,
        assigned_at=start,
        accepted_at=start + timedelta(seconds=5),
    )
    InteractionFactory(
        **base,
        agent=agent,
        status=InteractionStatus.ACTIVE,
        assigned_at=start,
        accepted_at=start + timedelta(seconds=50),
    )
    InteractionFactory(**base, status=InteractionStatus.ABANDONED, abandoned_at=start + timedelta(seconds=30))
    InteractionFactory(**base, status=InteractionStatus.ABANDONED, abandoned_at=start + timedelta(seconds=40))

    page = _client(_supervisor(red, "sup.red")).get("/admin/").content.decode()

    assert _card(page, "service_level")[0] == "25 %"
    assert _card(page, "abandonment")[0] == "50 %"
    value, href = _card(page, "abandonment")
    assert "status__exact=abandoned" in href


def test_the_figures_take_one_query_each_at_most(django_assert_max_num_queries):
    from agents.access import viewer_for
    from reporting.selectors.dashboard import dashboard_figures

    red = TeamFactory(name="Red")
    _floor(red, n=3)
    viewer = viewer_for(user=_supervisor(red, "sup.red"))

    # queues' open work, queues' today, today's totals, breaches, agents by status, on break or due, training, reviews
    with django_assert_max_num_queries(8):
        figures = dashboard_figures(viewer=viewer)
    assert figures["waiting"] == 3 and figures["reviews_to_do"] == 3 and figures["training_expiring"] == 3
    assert [row["name"] for row in figures["on_break_or_due"]] == [
        "Red resting 0", "Red resting 1", "Red resting 2", "Red tired 0", "Red tired 1", "Red tired 2",
    ]  # fmt: skip
