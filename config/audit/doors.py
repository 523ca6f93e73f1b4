"""The doors that open an audit context: every request (``AuditMiddleware``) and the project's management
commands (``AuditedCommand``); see ``config.audit``."""

from __future__ import annotations

import getpass

from django.core.management.base import BaseCommand

from .recorder import REPR_MAX, AuditContext, audit_context, is_audited, record


class AuditMiddleware:
    """Every request is an audit context; an admin action's changes carry the action's name, and an action that
    changed nothing the signals see (an export, a bulk ``update()``) is recorded once per selected row."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        with audit_context(source="web", request=request) as context:
            admin_action = _admin_action(request)
            context.action = admin_action or ""
            response = self.get_response(request)
            if admin_action and not context.recorded and _action_done(response):
                _record_action(request, context, admin_action)
        return response


def _admin_action(request) -> str | None:
    if request.method != "POST" or "/admin/" not in request.path:
        return None
    name = request.POST.get("action")
    if not name or not (request.POST.getlist("_selected_action") or request.POST.get("select_across")):
        return None
    return str(name)[:64]


def _action_done(response) -> bool:
    """A redirect or a file (CSV) ends an action; an HTML page is its form (not done yet) or its refusal."""
    return response.status_code < 400 and not response.get("Content-Type", "").startswith("text/html")


def _record_action(request, context: AuditContext, action: str) -> None:
    from django.urls import resolve

    match = resolve(request.path_info)
    model_admin = getattr(match.func, "model_admin", None)
    model = model_admin.model if model_admin is not None else None
    if model is None:
        return
    if request.POST.get("select_across") in ("1", "True", "true", "on"):
        rows = model_admin.get_queryset(request)
    else:
        rows = model_admin.get_queryset(request).filter(pk__in=request.POST.getlist("_selected_action"))
    if is_audited(model):
        for row in rows[:1000]:
            record(action=action, instance=row, context=context)
    else:
        record(action=action, model=model, changes={"rows": rows.count()}, context=context)


class AuditedCommand(BaseCommand):
    """Base of the project's management commands: what a command changes is on record as done by it."""

    def execute(self, *args, **options):
        name = type(self).__module__.rsplit(".", 1)[-1]
        try:
            who = getpass.getuser()
        except Exception:  # noqa: BLE001  (no user name in a bare container)
            who = "?"
        with audit_context(source="command", actor=f"manage.py {name} ({who})"[:REPR_MAX]):
            return super().execute(*args, **options)
