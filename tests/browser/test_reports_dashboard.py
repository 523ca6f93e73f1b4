"""A supervisor opens the reports dashboard in a real browser: the charts draw, offline, without errors."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.agents.factories import UserFactory
from tests.crm.factories import InteractionFactory, QueueFactory

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"  # UserFactory's


def test_dashboard_draws_its_charts_from_local_files(page, live_server, transactional_db):
    UserFactory(username="root.supervisor", is_staff=True, is_superuser=True)
    queue = QueueFactory(name="Phones")
    InteractionFactory(queue=queue, created_at=timezone.now() - timedelta(hours=2), category="billing")
    errors, outside = [], []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "response", lambda r: errors.append(r.url) if r.status >= 400 and not r.url.endswith("/favicon.ico") else None
    )
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None)

    page.goto("/admin/login/?next=/reports/")
    page.get_by_label("Username").fill("root.supervisor")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", name="Volume and service level by hour (last 7 days)")).to_be_visible()
    page.wait_for_function("() => window.Chart && document.querySelectorAll('canvas[data-chart]').length === 3")
    drawn = page.evaluate("() => [...document.querySelectorAll('canvas[data-chart]')].map(c => !!Chart.getChart(c))")
    assert drawn == [True, True, True]
    expect(page.get_by_role("link", name="Download CSV").first).to_be_visible()
    assert outside == []  # nothing fetched from another host: the page works offline
    assert errors == []  # no script error, no missing file
