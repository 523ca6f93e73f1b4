"""Integrators' access in the admin, administrators' only: API keys (made by ``api_key_create``, so the raw key is
shown once and only its hash kept; revoked by an action) and the idempotency records (read-only)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from agents.admin_scope import AdministratorsOnly
from config.admin_tools import ReadOnlyAdmin, ServiceErrorsAsMessages, adopt
from config.api.permissions import ALL_SCOPES

from .models import ApiKey, IdempotencyRecord
from .services.api_keys import api_key_create, api_key_revoke


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=[(scope, scope) for scope in ALL_SCOPES],
        widget=forms.CheckboxSelectMultiple,
        help_text="read: safe requests; write: changes; admin: everything, incl. set-up resources.",
    )

    class Meta:
        model = ApiKey
        fields = ["name", "scopes", "team", "expires_at"]

    def clean_name(self):
        name = self.cleaned_data.get("name", "").strip()
        if not name:
            raise ValidationError(_("An API key needs a name."))
        return name

    def clean_expires_at(self):
        expires_at = self.cleaned_data.get("expires_at")
        if expires_at is not None and expires_at <= timezone.now() and "expires_at" in self.changed_data:
            raise ValidationError(_("Choose a time in the future."))
        return expires_at


@admin.register(ApiKey)
class ApiKeyAdmin(ServiceErrorsAsMessages, AdministratorsOnly, admin.ModelAdmin):
    """Keys are created by ``api_key_create``: the raw key is shown once, in the message after saving.
    Administrators' only: a key bound to no team is unrestricted."""

    form = ApiKeyForm
    list_display = ["name", "prefix", "scope_list", "team", "last_used_at", "revoked_at", "expires_at"]
    list_filter = ["team", ("revoked_at", admin.EmptyFieldListFilter), "created_at"]
    list_select_related = ["team"]
    search_fields = ["name", "prefix"]
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "scopes", "team", "expires_at"]
        # hashed_key is never displayed
        return [
            "name",
            "prefix",
            "scopes",
            "team",
            "expires_at",
            "created_by",
            "created_at",
            "last_used_at",
            "revoked_at",
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["prefix", "created_by", "created_at", "last_used_at", "revoked_at"]

    @admin.display(description=_("scopes"))
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        created, raw_key = api_key_create(
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            team=form.cleaned_data["team"],
            expires_at=form.cleaned_data["expires_at"],
            created_by=request.user,
        )
        adopt(obj, created)
        self.message_user(
            request,
            _("The new API key is %(key)s — copy it now: it is not stored and will not be shown again.")
            % {"key": raw_key},
            messages.SUCCESS,
        )

    @admin.action(description=_("Revoke the selected API keys"), permissions=["change"])
    def revoke(self, request, queryset):
        revoked = 0
        for key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(api_key=key)
            revoked += 1
        self.message_user(
            request,
            ngettext("%(count)d API key revoked.", "%(count)d API keys revoked.", revoked) % {"count": revoked},
            messages.SUCCESS,
        )


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(AdministratorsOnly, ReadOnlyAdmin):
    list_display = ["owner", "key", "response_status", "created_at"]
    list_filter = ["response_status", "created_at"]
    search_fields = ["=owner", "key"]
    date_hierarchy = "created_at"
