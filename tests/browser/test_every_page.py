"""Every admin page — each model's list, add and change page, and the custom views — and the console, wallboard and
reports open in Chromium without a JavaScript error, a console error or a failed resource, for an administrator
and for a supervisor (the pages a role may not open are left out: the permission matrix covers those)."""

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse

from tests.admin_world import build_world
from tests.browser.pages import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CUSTOM = ["/admin/", "/admin/agents/agent/board/", "/wallboard/", "/reports/", "/reports/staffing/"]


def _urls(world) -> list[str]:
    urls = list(CUSTOM)
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        urls += [reverse("admin:{}_{}_changelist".format(*info)), reverse("admin:{}_{}_add".format(*info))]
        rows = world.rows.get(model._meta.label_lower, {})
        row = rows.get("A") or rows.get("center") or next(iter(rows.values()), None)
        if row is not None:
            try:
                urls.append(reverse("admin:{}_{}_change".format(*info), args=[row.pk]))
            except NoReverseMatch:
                pass
    return urls


def _problems_on(page, url: str) -> list[str]:
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"{url}: JavaScript error: {error}"))
    page.on("console", lambda m: m.type == "error" and problems.append(f"{url}: console error: {m.text}"))
    page.on("requestfailed", lambda r: problems.append(f"{url}: request failed: {r.url} ({r.failure})"))
    page.on(
        "response",
        lambda r: r.status >= 400 and r.url != page.url and problems.append(f"{url}: {r.status} for {r.url}"),
    )
    response = page.goto(url, wait_until="load")
    if response is None or response.status in (403, 404):
        return []  # not this role's page
    if response.status >= 400:
        problems.append(f"{url}: answered {response.status}")
    page.wait_for_timeout(50)  # a script that fails on a timer after load
    return problems


@pytest.mark.parametrize("role", ["administrator", "sup_a"])
def test_every_page_loads_without_a_javascript_error_or_a_failed_resource(browser, asgi_live_server, role):
    world = build_world()
    context = browser.new_context(base_url=asgi_live_server)
    context.set_default_timeout(15_000)
    sign_in(context.new_page(), world.users[role].username)
    problems, visited = [], 0
    for url in _urls(world):
        page = context.new_page()
        problems += _problems_on(page, url)
        visited += 1
        page.close()

    # an action's intermediate page: assigning a course (its date-time widget)
    page = context.new_page()
    found: list[str] = []
    page.on("pageerror", lambda error: found.append(f"assign course: JavaScript error: {error}"))
    page.goto(reverse("admin:agents_agent_changelist"))
    page.locator("input.action-select").first.check()
    page.select_option("select[name=action]", "assign_course_action")
    page.get_by_role("button", name="Run").click()
    page.wait_for_selector("text=Assign a course to 1 agent:")
    page.get_by_text("Today").first.click()  # the widget's shortcut works: the core script is there
    assert page.locator("input[name=due_at_0]").input_value()
    problems += found
    context.close()
    assert visited > 60
    assert not problems, "\n".join(problems)


def test_the_sign_in_pages_load_every_resource(browser, live_server, transactional_db):
    context = browser.new_context(base_url=live_server.url)
    problems = []
    for url in ("/accounts/login/", "/admin/login/"):
        page = context.new_page()
        problems += _problems_on(page, url)
        page.close()
    context.close()
    assert not problems, "\n".join(problems)
