"""A person's sign-in details: the notices sent when their e-mail address or password changes (docs/security.md).

Whoever holds a session could otherwise take an account over quietly: change its e-mail address, then reset
the password through the new address. So every change of a user's e-mail address is told to the *old*
address, and every password change to the account's address, after the change commits. Changing one's own
address also needs the current password (``agents.api``), as Django's password change does.

- ``user_email_changed(user=..., old_email=...)``: called by the services that change ``User.email``
  (``agents.services.agent_update``; the admin's user form should call it too).
- ``PasswordChangeNotice``: listed in ``AUTH_PASSWORD_VALIDATORS``, so Django calls its ``password_changed``
  whenever a password is set and saved, wherever that happens (the admin, ``/accounts/password_change/``, the
  reset flow, ``changepassword``).
"""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

logger = logging.getLogger(__name__)

EMAIL_CHANGED_SUBJECT = "Your Switchboard e-mail address was changed"
PASSWORD_CHANGED_SUBJECT = "Your Switchboard password was changed"  # noqa: S105 (a subject line)
_IF_NOT_YOU = "If you did not make this change, tell your administrator at once: someone may be using your account."


def _send_after_commit(*, subject: str, body: str, to: str) -> None:
    def send() -> None:
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to])
        except Exception:
            # the change is committed; a mail server that is down must not turn it into an error page
            logger.exception("account notice %r to %s could not be sent", subject, to)

    transaction.on_commit(send)


def user_email_changed(*, user, old_email: str) -> None:
    """Tell the old address (if there was one) that the account's e-mail address changed, once this commits."""
    if not old_email or old_email == user.email:
        return
    body = (
        f"Hello {user.get_username()},\n\n"
        f"the e-mail address of your Switchboard account was changed from {old_email} to {user.email or '(none)'}.\n"
        f"Password resets now go to the new address.\n\n{_IF_NOT_YOU}\n"
    )
    _send_after_commit(subject=EMAIL_CHANGED_SUBJECT, body=body, to=old_email)


class PasswordChangeNotice:
    """Not a rule about passwords: the hook Django calls after every password change, used to tell the owner."""

    def validate(self, password, user=None) -> None:
        return None

    def password_changed(self, password, user=None) -> None:
        if user is None or not getattr(user, "email", ""):
            return
        body = (
            f"Hello {user.get_username()},\n\nthe password of your Switchboard account was changed.\n\n{_IF_NOT_YOU}\n"
        )
        _send_after_commit(subject=PASSWORD_CHANGED_SUBJECT, body=body, to=user.email)

    def get_help_text(self) -> str:
        return "Changing your password sends a notice to your e-mail address."
