"""A supervisor signs in to the Switchboard admin in a real browser."""

import pytest
from playwright.sync_api import expect

from tests.agents.factories import UserFactory

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"  # UserFactory's


@pytest.fixture
def superuser(transactional_db):
    return UserFactory(username="root.supervisor", is_staff=True, is_superuser=True)


def _sign_in(page, password):
    page.goto("/admin/")
    page.get_by_label("Username").fill("root.supervisor")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_superuser_signs_in_and_sees_the_switchboard_admin_index(page, live_server, superuser):
    _sign_in(page, PASSWORD)

    expect(page).to_have_url(f"{live_server.url}/admin/")
    expect(page.locator("#site-name")).to_have_text("Switchboard administration")
    # the landing dashboard (reporting.admin_dashboard), with the grouped navigation below it
    expect(page.get_by_role("heading", name="Today on the floor")).to_be_visible()
    expect(page.get_by_role("link", name="Users", exact=True)).to_be_visible()
    expect(page).to_have_title("Site administration | Switchboard admin")


def test_wrong_password_shows_the_error_and_stays_on_the_login_page(page, live_server, superuser):
    _sign_in(page, "not the password")

    expect(page.locator(".errornote")).to_contain_text("Please enter the correct username and password")
    expect(page).to_have_url(f"{live_server.url}/admin/login/?next=/admin/")
    expect(page.get_by_role("link", name="Users")).to_have_count(0)
