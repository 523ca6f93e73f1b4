"""Scope checks shared by every API app.

An API key (``request.auth``) carries scopes: ``read`` for safe methods, ``write`` for changes,
``admin`` for everything (and for administrative resources). A browser session (console,
supervisors) has no key; administrators (``config.roles``) are treated as ``admin``, every other
authenticated user — staff included, since ``is_staff`` grants no data — gets ``read`` and ``write`` and is
narrowed to what they may see by each view's queryset.
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from config.roles import is_administrator

READ, WRITE, ADMIN = "read", "write", "admin"
ALL_SCOPES = (READ, WRITE, ADMIN)


def request_scopes(request) -> set[str]:
    auth = getattr(request, "auth", None)
    scopes = getattr(auth, "scopes", None)
    if scopes is not None:
        scopes = set(scopes)
    elif request.user and request.user.is_authenticated:
        scopes = {READ, WRITE, ADMIN} if is_administrator(request.user) else {READ, WRITE}
    else:
        return set()
    if ADMIN in scopes:
        scopes |= {READ, WRITE}
    return scopes


class HasScope(BasePermission):
    """Safe methods need ``read``; anything else ``write``; a view may demand more via ``required_scope``."""

    message = "Your API key does not have the scope this request needs."

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated) and getattr(request, "auth", None) is None:
            return False
        needed = getattr(view, "required_scope", None) or (READ if request.method in SAFE_METHODS else WRITE)
        if isinstance(needed, dict):
            needed = needed.get(request.method, READ if request.method in SAFE_METHODS else WRITE)
        scopes = request_scopes(request)
        if needed not in scopes:
            self.message = f"This request needs the '{needed}' scope."
            return False
        return True
