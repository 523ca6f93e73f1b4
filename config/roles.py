"""The administrator role: the only people who are unrestricted (docs/security.md).

A superuser, or an active member of the ``Administrator`` group (which holds every model permission, kept
complete after each ``migrate`` by ``agents.apps``). ``is_staff`` is not a role: it only lets a person into
the admin. This lives in ``config`` because the API's scope check (``config.api.permissions``) needs it and
must not import an app.
"""

ADMINISTRATOR_GROUP = "Administrator"


def is_administrator(user) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_switchboard_is_administrator", None)
    if cached is None:
        cached = user.groups.filter(name=ADMINISTRATOR_GROUP).exists()
        user._switchboard_is_administrator = cached
    return cached
