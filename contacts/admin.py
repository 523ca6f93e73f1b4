"""Admin for the customer directory. Saves go through the services, so identities and the e-mail / phone
mirror stay in step, and every value is checked by a form (a bad address is a form error, not a 500)."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from config.roles import is_administrator

from . import services, validation
from .choices import IdentityChannel
from .models import ContactIdentity, Customer, Note, Organization
from .selectors import customer_search


def _adopt(obj, created) -> None:
    """Make the admin's unsaved ``obj`` the row a service created, so the admin's inlines and redirect use it."""
    obj.pk = created.pk
    obj.refresh_from_db()
    obj._state.adding = False


def _form_clean(form: forms.ModelForm, field: str, cleaner):
    try:
        return cleaner(form.cleaned_data.get(field))
    except ValidationError as exc:
        raise ValidationError(exc.messages) from None


# --- forms -----------------------------------------------------------------------------------------------------


class CustomerAdminForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = [
            "name",
            "email",
            "phone",
            "organization",
            "language",
            "timezone",
            "tier",
            "tags",
            "attributes",
            "survey_opt_out",
            "marketing_consent",
            "recording_consent",
        ]

    def _clean_primary(self, field: str, kind: str) -> str:
        value = (self.cleaned_data.get(field) or "").strip()
        if not value:
            return ""
        try:
            address = services.normalize_address(channel=kind, address=value)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None
        taken = ContactIdentity.objects.filter(channel=kind, address=address)
        if self.instance.pk:
            taken = taken.exclude(customer_id=self.instance.pk)
        if taken.exists():
            raise ValidationError(_("'%(address)s' already belongs to another customer.") % {"address": address})
        return address

    def clean_name(self):
        return _form_clean(self, "name", validation.clean_name)

    def clean_email(self):
        return self._clean_primary("email", IdentityChannel.EMAIL)

    def clean_phone(self):
        return self._clean_primary("phone", IdentityChannel.PHONE)

    def clean_language(self):
        return _form_clean(self, "language", validation.clean_language)

    def clean_timezone(self):
        return _form_clean(self, "timezone", validation.clean_timezone)

    def clean_tags(self):
        return _form_clean(self, "tags", lambda tags: validation.clean_tags(tags or []))

    def clean_attributes(self):
        return _form_clean(self, "attributes", validation.clean_attributes)


class ContactIdentityAdminForm(forms.ModelForm):
    """Normalises the address for its channel before the unique (channel, address) check runs."""

    class Meta:
        model = ContactIdentity
        fields = ["customer", "channel", "address", "verified"]

    def clean(self):
        cleaned = super().clean()
        channel, address = cleaned.get("channel"), cleaned.get("address")
        if channel and address:
            try:
                cleaned["address"] = services.normalize_address(channel=channel, address=address)
            except ValidationError as exc:
                self.add_error("address", exc.messages)
        return cleaned


class OrganizationAdminForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = ["name", "domain", "notes"]

    def clean_name(self):
        return _form_clean(self, "name", validation.clean_name)

    def clean_domain(self):
        return _form_clean(self, "domain", validation.clean_domain)


# --- inlines ---------------------------------------------------------------------------------------------------


class ContactIdentityInline(admin.TabularInline):
    model = ContactIdentity
    form = ContactIdentityAdminForm
    fields = ["channel", "address", "is_primary", "verified", "created_at"]
    # The primary identities follow the customer's e-mail and phone fields.
    readonly_fields = ["is_primary", "created_at"]
    extra = 0


class NoteInline(admin.StackedInline):
    model = Note
    fields = ["body", "author", "created_at"]
    readonly_fields = ["author", "created_at"]
    extra = 0


# --- model admins ----------------------------------------------------------------------------------------------


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    form = CustomerAdminForm
    list_display = ["name", "email", "phone", "organization", "tier", "language", "created_at"]
    list_filter = ["tier", "language", "survey_opt_out", ("organization", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["organization"]
    search_fields = ["name", "email", "phone", "identities__address"]
    autocomplete_fields = ["organization"]
    readonly_fields = ["created_at", "updated_at", "erased_at"]
    fieldsets = [
        (None, {"fields": ["name", "email", "phone", "organization"]}),
        ("Preferences", {"fields": ["language", "timezone", "tier", "tags", "attributes"]}),
        ("Consent", {"fields": ["survey_opt_out", "marketing_consent", "recording_consent"]}),
        ("Data protection", {"fields": ["legal_hold", "erased_at"]}),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]
    inlines = [ContactIdentityInline, NoteInline]
    date_hierarchy = "created_at"

    def get_search_results(self, request, queryset, search_term):
        # The directory's own search: ILIKE on the trigram-indexed columns, and exact matches on normalised
        # addresses, rather than the admin's UPPER() LIKE over a join on identities (slow, and duplicates).
        return customer_search(queryset, search_term), False

    def save_model(self, request, obj, form, change):
        data = {field: form.cleaned_data[field] for field in services.CUSTOMER_FIELDS if field in form.cleaned_data}
        if change:
            changed = {f: data[f] for f in form.changed_data if f in data}
            services.customer_update(customer=obj, consent_source="admin", **changed)
        else:
            _adopt(obj, services.customer_create(consent_source="admin", **data))
        if "legal_hold" in form.changed_data and is_administrator(request.user):
            Customer.objects.filter(pk=obj.pk).update(legal_hold=form.cleaned_data["legal_hold"])
            obj.legal_hold = form.cleaned_data["legal_hold"]

    def get_readonly_fields(self, request, obj=None):
        # a legal hold (which refuses erasure, crm.privacy) is set and lifted by administrators only
        fields = list(super().get_readonly_fields(request, obj))
        return fields if is_administrator(request.user) else [*fields, "legal_hold"]

    def save_formset(self, request, form, formset, change):
        customer = form.instance
        if formset.model is ContactIdentity:
            formset.save(commit=False)
            for identity in formset.deleted_objects:
                services.identity_remove(identity=identity)
            for identity, _changed in formset.changed_objects:
                services.identity_update(
                    identity=identity, channel=identity.channel, address=identity.address, verified=identity.verified
                )
            # The change message (admin history) names what was saved: the services' rows.
            formset.new_objects = [
                services.identity_add(
                    customer=customer, channel=identity.channel, address=identity.address, verified=identity.verified
                )
                for identity in formset.new_objects
            ]
        elif formset.model is Note:
            formset.save(commit=False)
            for note in formset.deleted_objects:
                note.delete()
            for note, _changed in formset.changed_objects:
                note.save(update_fields=["body"])
            formset.new_objects = [
                services.note_create(customer=customer, author=request.user, body=note.body)
                for note in formset.new_objects
            ]
        else:
            super().save_formset(request, form, formset, change)

    def delete_model(self, request, obj):
        services.customer_delete(customer=obj)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    form = OrganizationAdminForm
    list_display = ["name", "domain", "customer_count", "created_at"]
    ordering = ["name"]
    search_fields = ["name", "domain"]
    readonly_fields = ["created_at", "updated_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(customer_count=Count("customers"))

    @admin.display(description=_("customers"), ordering="customer_count")
    def customer_count(self, obj) -> int:
        return obj.customer_count

    def save_model(self, request, obj, form, change):
        data = {field: form.cleaned_data[field] for field in services.ORGANIZATION_FIELDS if field in form.cleaned_data}
        if change:
            services.organization_update(organization=obj, **{f: data[f] for f in form.changed_data if f in data})
        else:
            _adopt(obj, services.organization_create(**data))

    def delete_model(self, request, obj):
        services.organization_delete(organization=obj)


@admin.register(ContactIdentity)
class ContactIdentityAdmin(admin.ModelAdmin):
    form = ContactIdentityAdminForm
    list_display = ["address", "channel", "customer", "is_primary", "verified", "undeliverable_at", "created_at"]
    list_filter = ["channel", "is_primary", "verified", ("undeliverable_at", admin.EmptyFieldListFilter)]
    list_select_related = ["customer"]
    search_fields = ["address"]
    autocomplete_fields = ["customer"]
    readonly_fields = ["is_primary", "undeliverable_at", "undeliverable_reason", "created_at"]

    def save_model(self, request, obj, form, change):
        if change:
            services.identity_update(identity=obj, channel=obj.channel, address=obj.address, verified=obj.verified)
        else:
            _adopt(
                obj,
                services.identity_add(
                    customer=obj.customer, channel=obj.channel, address=obj.address, verified=obj.verified
                ),
            )

    def delete_model(self, request, obj):
        services.identity_remove(identity=obj)

    def delete_queryset(self, request, queryset):
        for identity in queryset:
            services.identity_remove(identity=identity)


@admin.register(Note)
class NoteAdmin(admin.ModelAdmin):
    list_display = ["customer", "author", "created_at", "short_body"]
    list_select_related = ["customer", "author"]
    search_fields = ["body", "customer__name"]
    autocomplete_fields = ["customer"]
    readonly_fields = ["author", "created_at"]

    @admin.display(description=_("note"))
    def short_body(self, obj) -> str:
        return obj.body[:80]

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["body", "customer"])
        else:
            _adopt(obj, services.note_create(customer=obj.customer, author=request.user, body=obj.body))
