"""Inboxes in the admin: administrators connect and change them, supervisors read those of their teams' queues
(and the shared queues') — like queues.

A secret is never on a page: settings are shown as the adapter redacts them (list, page and form alike); new
secret values go into a write-only field that is never rendered back, not even after an error. The inbound URL
(it holds the inbox's token) is shown once, in the message after creation or after "Issue a new inbound URL".
Every change goes through ``crm.inboxes.services.inboxes``, so the admin and the API hold the same rules.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from agents.admin_scope import AdministratorsChange, TeamScoped
from config.errors import DomainError

from .adapters import adapter_for, registered_channels
from .models import Inbox
from .selectors import REDACTED, inbox_inbound_url, inbox_redacted_settings
from .services.inboxes import (
    inbox_check,
    inbox_create,
    inbox_default_adapter,
    inbox_delete,
    inbox_delete_blockers,
    inbox_mark_reauthorised,
    inbox_rotate_token,
    inbox_update,
)

WRITABLE = ["name", "queue", "display_name", "is_active"]


class RedactedJSONTextarea(forms.Textarea):
    """Settings as JSON, always rendered through the adapter's redaction (``redact``), typed input included."""

    redact = staticmethod(lambda settings: dict.fromkeys(settings, REDACTED))

    def format_value(self, value):
        try:
            settings = json.loads(value) if isinstance(value, str) else value
        except ValueError:
            return ""  # unreadable input may hold a secret: not echoed
        if not isinstance(settings, dict):
            return ""
        return json.dumps(self.redact(settings), indent=2, ensure_ascii=False)


class WriteOnlyTextarea(forms.Textarea):
    """Never renders a value (as a password field does not): what is typed here is not shown again."""

    def format_value(self, value):
        return None


class InboxForm(forms.ModelForm):
    adapter = forms.ChoiceField(required=False, help_text="the provider adapter; empty: the channel's own")
    shown_settings = forms.JSONField(
        label="Settings",
        required=False,
        widget=RedactedJSONTextarea(attrs={"rows": 8}),
        help_text='The adapter\'s settings; e-mail: {"address": "support@example.com"}, and optionally '
        '"message_id_domain", "max_attachment_bytes". Secrets show as *** and are kept as they are; null '
        "removes a setting.",
    )
    new_secrets = forms.JSONField(
        label="New secret values",
        required=False,
        widget=WriteOnlyTextarea(attrs={"rows": 3, "autocomplete": "off"}),
        help_text='Settings holding a secret, never shown again: e.g. {"imap_url": "imaps://user:password@host:993/'
        'INBOX", "smtp_url": "smtp://user:password@host:587?starttls=1"}. Empty: the stored ones stay.',
    )

    class Meta:
        model = Inbox
        fields = ["name", "channel", "adapter", "queue", "display_name", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "adapter" in self.fields:
            self.fields["adapter"].choices = [("", "—")] + [(key, key) for key in registered_channels()]
        adapter = self.instance.adapter if self.instance.pk else self._posted_adapter()
        try:
            self.fields["shown_settings"].widget.redact = adapter_for(adapter).redact_settings
        except LookupError:
            pass  # unknown: every value is masked
        if self.instance.pk:
            self.fields["shown_settings"].initial = inbox_redacted_settings(self.instance)

    def _posted_adapter(self) -> str:
        data = self.data if self.is_bound else {}
        return data.get("adapter") or inbox_default_adapter(channel=data.get("channel", "")) or ""

    def clean(self):
        cleaned = super().clean()
        shown, secrets = cleaned.get("shown_settings") or {}, cleaned.get("new_secrets") or {}
        for field, value in (("shown_settings", shown), ("new_secrets", secrets)):
            if not isinstance(value, dict):
                self.add_error(field, 'An object of settings: {"key": "value", …}.')
        if self.errors:
            return cleaned
        stored = inbox_redacted_settings(self.instance) if self.instance.pk else {}
        for key, value in shown.items():
            if isinstance(value, str) and REDACTED in value and stored.get(key) != value and key not in secrets:
                self.add_error("shown_settings", f"{key}: a redacted value; type the secret under New secret values.")
        self.settings_sent = {**shown, **secrets}
        try:
            inbox_check(inbox=self.instance if self.instance.pk else None, data=self.service_data())
        except ValidationError as exc:
            for name, problems in exc.message_dict.items():
                self._add_service_error(name, problems, secrets)
        return cleaned

    def service_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in WRITABLE if name in self.cleaned_data}
        data["settings"] = self.settings_sent
        if not self.instance.pk:
            data |= {"channel": self.cleaned_data.get("channel"), "adapter": self.cleaned_data.get("adapter") or None}
            data.pop("is_active", None)
        return data

    def _add_service_error(self, name: str, problems: list[str], secrets: dict) -> None:
        if name.startswith("settings."):
            key = name.removeprefix("settings.")
            field = "new_secrets" if key in secrets else "shown_settings"
            problems = [f"{key}: {problem}" for problem in problems]
        else:
            field = {"settings": "shown_settings"}.get(name, name)
        for problem in problems:
            self.add_error(field if field in self.fields else None, problem)


@admin.register(Inbox)
class InboxAdmin(AdministratorsChange, TeamScoped, admin.ModelAdmin):
    team_path, shared_team, owner_field = "queue__team_id", True, "queue"
    form = InboxForm
    list_display = ["name", "channel", "adapter", "queue", "state", "is_active"]
    list_filter = ["channel", "is_active", "state", "queue"]
    list_select_related = ["queue"]
    search_fields = ["name", "display_name"]
    actions = ["mark_reauthorised", "issue_inbound_url"]

    def get_fields(self, request, obj=None):
        fields = ["name", "channel", "adapter", "queue", "display_name", "shown_settings", "new_secrets", "is_active"]
        if obj is None:
            return fields
        if not self.has_change_permission(request, obj):
            fields = [name for name in fields if name not in ("shown_settings", "new_secrets")]
            fields.insert(5, "redacted_settings")
        return [*fields, "state", "state_detail", "created_at", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["channel", "adapter", "redacted_settings", "state", "state_detail", "created_at", "updated_at"]

    @admin.display(description=_("settings"))
    def redacted_settings(self, obj: Inbox):
        shown = json.dumps(inbox_redacted_settings(obj), indent=2, ensure_ascii=False)
        return format_html("<pre>{}</pre>", shown)

    def save_model(self, request, obj, form, change):
        data = form.service_data()
        if change:
            saved = inbox_update(inbox=obj, data=data)
        else:
            saved = inbox_create(**data, is_active=form.cleaned_data.get("is_active", True))
        obj.pk = saved.pk
        obj.refresh_from_db()
        obj._state.adding = False
        if not change:
            self._show_inbound_url(request, obj)

    def _show_inbound_url(self, request, inbox: Inbox) -> None:
        self.message_user(
            request,
            _(
                "The inbound URL of %(inbox)s is %(url)s — copy it now, it is not shown again. "
                "Your mail provider or MTA POSTs each message there (Content-Type: message/rfc822)."
            )
            % {"inbox": inbox.name, "url": inbox_inbound_url(inbox)},
            messages.SUCCESS,
        )

    # Refusals the form could not foresee (a race) are messages, not error pages.
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (DomainError, ValidationError) as exc:
            text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            self.message_user(request, text, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def get_deleted_objects(self, objs, request):
        # Listed as "protected", the reasons make the confirmation page refuse the delete and say what to do.
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        for inbox in objs:
            protected.extend(inbox_delete_blockers(inbox=inbox))
        return deleted, counts, perms_needed, protected

    def delete_model(self, request, obj):
        inbox_delete(inbox=obj)

    def delete_queryset(self, request, queryset):
        for inbox in queryset:
            inbox_delete(inbox=inbox)

    @admin.action(description=_("Mark re-authorised (the credentials work again)"), permissions=["change"])
    def mark_reauthorised(self, request, queryset):
        done = sum(inbox_mark_reauthorised(inbox=inbox) for inbox in queryset)
        self.message_user(
            request,
            ngettext("%(count)d inbox marked re-authorised.", "%(count)d inboxes marked re-authorised.", done)
            % {"count": done},
            messages.SUCCESS,
        )

    @admin.action(description=_("Issue a new inbound URL (the old one stops working)"), permissions=["change"])
    def issue_inbound_url(self, request, queryset):
        for inbox in queryset:
            self._show_inbound_url(request, inbox_rotate_token(inbox=inbox))
