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
