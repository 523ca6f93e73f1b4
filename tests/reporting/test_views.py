"""The dashboard pages: staff and supervisors only, charts from our own static files, a table beside each."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from crm.choices import InteractionStatus, ReviewStatus
from crm.quality.models import Review, Scorecard
from tests.agents.factories import AgentFactory, UserFactory
from tests.crm.factories import InteractionFactory, QueueFactory, interaction_in_status

pytestmark = pytest.mark.django_db


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_staff_see_the_dashboard_with_local_charts_and_tables(staff_user):
    queue = QueueFactory(name="Phones")
    InteractionFactory(queue=queue, created_at=timezone.now() - timedelta(hours=1), category="billing")

    response = logged_in(staff_user).get("/reports/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "reporting/vendor/chart.umd.min.js" in html
    assert "cdn" not in html.lower()  # the page works offline
    assert html.count("<canvas") == 3 and html.count("Download CSV") == 3
    assert "/api/v1/reports/kpis?" in html and "format=csv" in html
    assert "billing" in html  # the FCR table
    assert 'id="report-charts"' in html


def test_chart_library_is_served_from_our_static_files(staff_user):
    response = logged_in(staff_user).get("/static/reporting/vendor/chart.umd.min.js")

    assert response.status_code == 200
    assert b"Chart.js v4" in b"".join(response.streaming_content)[:200]


def test_supervisors_see_the_dashboards(db):
    supervisor = UserFactory()
    AgentFactory().team.supervisors.add(supervisor)

    assert logged_in(supervisor).get("/reports/").status_code == 200
    assert logged_in(supervisor).get("/reports/staffing/").status_code == 200


def test_agents_and_strangers_do_not(db):
    assert logged_in(AgentFactory().user).get("/reports/").status_code == 403
    assert Client().get("/reports/").status_code == 302  # to the sign-in page


def test_staffing_page_shows_tomorrows_table(staff_user):
    queue = QueueFactory(name="Phones")
    same_hour_last_week = timezone.localtime() + timedelta(days=1) - timedelta(weeks=1)
    InteractionFactory(queue=queue, created_at=same_hour_last_week)

    response = logged_in(staff_user).get("/reports/staffing/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Phones" in html and 'id="staffing"' in html
    assert "0.25" in html  # 1 contact over the 4 weeks averaged


def test_the_leaderboard_shows_each_agents_qa_score_where_reviews_exist(staff_user):
    reviewed, unreviewed = AgentFactory(user__username="reviewed"), AgentFactory(user__username="unreviewed")
    card = Scorecard.objects.create(name="Standard QA")
    now = timezone.now()
    for score in (80, 91):
        interaction = interaction_in_status(InteractionStatus.RESOLVED, agent=reviewed)
        Review.objects.create(
            interaction=interaction,
            agent=reviewed,
            scorecard=card,
            status=ReviewStatus.COMPLETED,
            total_score=score,
            created_at=now,
            completed_at=now,
        )
    interaction_in_status(InteractionStatus.RESOLVED, agent=unreviewed)

    html = logged_in(staff_user).get("/reports/").content.decode()

    board = html[html.index('id="leaderboard"') :]
    assert "QA score" in board
    assert "85.5" in board  # the mean of 80 and 91
    unreviewed_row = board[board.index(str(unreviewed)) :].split("</tr>")[0]
    assert unreviewed_row.endswith("<td>–</td>")
