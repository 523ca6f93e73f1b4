"""The admin's index and sidebar grouped by the supervisor's jobs, not by Django app.

Django's own admin customisation (``AdminSite.get_app_list``) rather than an admin theme: the pages, permissions
and per-row scoping stay exactly as they are (``agents.admin_scope``), and no dependency is added. Each group
lists only the models the signed-in person may use (Django builds the list from their permissions first); what a
group does not name lands in "Other", so a new model is never hidden. An app's own page (``/admin/<app>/``) keeps
Django's list of that app. "Live" links the screens that are not models: the agent board, the wallboard, reports.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin import AdminSite
from django.urls import reverse
from django.utils.translation import gettext, gettext_noop

GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (gettext_noop("Work"), ("crm.interaction", "crm.message", "contacts.customer", "contacts.organization",
              "contacts.contactidentity", "contacts.note")),
    (gettext_noop("People"), ("agents.agent", "agents.team", "agents.skill", "agents.trainingcourse", "agents.trainingrecord",
                "agents.break", "agents.breaktype", "agents.breakpolicy", "agents.breakduenotice")),
    (gettext_noop("Quality"), ("crm.scorecard", "crm.review", "crm.survey", "crm.surveyresponse", "crm.surveysuppressionrule")),
    (gettext_noop("Setup"), ("crm.queue", "crm.slapolicy", "crm.businesshours", "crm.inbox", "crm.cannedresponse", "crm.webhook",
               "crm.apikey", "crm.retentionpolicy")),
    (gettext_noop("Records"), ("agents.auditentry", "agents.agentstatuslog", "crm.interactionevent", "agents.supervisoraction",
                 "crm.assignment", "crm.escalation", "crm.delivery", "crm.inboundreceipt", "crm.webhookdelivery",
                 "crm.deadletter", "crm.idempotencyrecord")),
    (gettext_noop("Administration"), ("auth.user", "auth.group", "axes.accessattempt", "axes.accessfailurelog", "axes.accesslog")),
)  # fmt: skip
_GROUP_OF = {label: name for name, labels in GROUPS for label in labels}
_ORDER = {label: n for _name, labels in GROUPS for n, label in enumerate(labels)}


def _live_links(request) -> list[dict]:
    """The live screens a staff member may open (the views refuse anyone else themselves)."""
    return [
        {
            "name": gettext(title),
            "object_name": title,
            "admin_url": url,
            "add_url": None,
            "view_only": True,
            "perms": {},
        }
        for title, url in (
            (gettext_noop("Agent board"), reverse("admin:agents_agent_board")),
            (gettext_noop("Wallboard"), reverse("wallboard")),
            (gettext_noop("Reports"), reverse("reporting:dashboard")),
        )
    ]


def grouped_app_list(site, request, app_label=None):
    """``AdminSite.get_app_list`` by job (see the module's docstring); an app's own page as Django makes it."""
    apps = AdminSite.get_app_list(site, request, app_label)
    if app_label is not None:
        return apps
    groups: dict[str, list[dict]] = {name: [] for name, _labels in GROUPS}
    groups[gettext_noop("Other")] = []
    for app in apps:
        for model in app["models"]:
            label = f"{app['app_label']}.{model['object_name'].lower()}"
            model["app_label"] = app["app_label"]
            groups[_GROUP_OF.get(label, "Other")].append(model)
    for models in groups.values():
        models.sort(key=lambda m: _ORDER.get(f"{m['app_label']}.{m['object_name'].lower()}", 999))
    listed = [{"name": gettext("Live"), "app_label": "live", "app_url": "", "has_module_perms": True,
               "models": _live_links(request)}] if request.user.is_staff else []  # fmt: skip
    for name, models in groups.items():
        if models:
            listed.append({"name": gettext(name), "app_label": name.lower(), "app_url": "", "has_module_perms": True,
                           "models": models})  # fmt: skip
    return listed


def install() -> None:
    admin.site.get_app_list = grouped_app_list.__get__(admin.site)
