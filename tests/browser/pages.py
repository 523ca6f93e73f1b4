"""What every browser test does on the way in: sign in through the real form, wait for the live socket's snapshot."""

PASSWORD = "correct horse battery staple"  # UserFactory's


def sign_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def wait_live(page) -> None:
    """Until the page's websocket has delivered a snapshot since it was (re)loaded."""
    page.wait_for_function("() => window.SwitchboardLive && window.SwitchboardLive.connection.snapshots > 0")


def mark_page(page) -> None:
    """Mark the document now shown, so that ``wait_live_reloaded`` can tell it from the one a navigation brings."""
    page.evaluate("() => { window.__switchboardBeforeNavigation = true; }")


def wait_live_reloaded(page) -> None:
    """``wait_live`` on the document that replaced the one ``mark_page`` marked: right after a click that posts a
    form, the old document may still be shown, with its socket's snapshots counted."""
    page.wait_for_function(
        "() => !window.__switchboardBeforeNavigation && window.SwitchboardLive"
        " && window.SwitchboardLive.connection.snapshots > 0"
    )
