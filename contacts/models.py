from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from .choices import IdentityChannel, Tier


class Organization(models.Model):
    """A company some customers belong to (B2B accounts)."""

    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=200, blank=True, help_text="e-mail domain, e.g. example.com")
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="organization_name_ci_unique")]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    """A person the center serves. ``email`` and ``phone`` mirror the primary identities for search and display."""

    name = models.CharField(max_length=200)
    email = models.CharField(max_length=254, blank=True, help_text="primary e-mail, lower-case")
    phone = models.CharField(max_length=32, blank=True, help_text="primary phone, E.164")
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="customers"
    )
    language = models.CharField(max_length=16, default="en", help_text="BCP 47 language code")
    timezone = models.CharField(max_length=64, default="UTC")
    tier = models.CharField(max_length=16, choices=Tier.choices, default=Tier.STANDARD)
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    attributes = models.JSONField(default=dict, blank=True, help_text="custom attributes")
    survey_opt_out = models.BooleanField(default=False, help_text="never send this customer a survey")
    marketing_consent = models.BooleanField(default=False)
    # Calls are recorded unless the customer withdrew consent (announced in the IVR, withdrawn on request); the voice
    # channel then keeps no recording URL. db_default: bulk writers that do not name the column keep working.
    recording_consent = models.BooleanField(
        default=True, db_default=True, help_text="calls may be recorded; cleared when the customer withdraws it"
    )
    # Data protection (crm.privacy): a customer under legal hold cannot be erased; an erased one keeps this row
    # (its interactions count in the reports) with no personal data left in it.
    legal_hold = models.BooleanField(
        default=False, db_default=False, help_text="refuse erasure (litigation, regulator's order)"
    )
    erased_at = models.DateTimeField(null=True, blank=True, help_text="personal data erased (crm.privacy)")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-id"]
        indexes = [
            GinIndex(name="customer_name_trgm", fields=["name"], opclasses=["gin_trgm_ops"]),
            GinIndex(name="customer_email_trgm", fields=["email"], opclasses=["gin_trgm_ops"]),
            GinIndex(name="customer_phone_trgm", fields=["phone"], opclasses=["gin_trgm_ops"]),
            GinIndex(name="customer_tags", fields=["tags"]),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(email=Lower("email")), name="customer_email_lowercase"),
        ]

    def __str__(self) -> str:
        return self.name


class ContactIdentity(models.Model):
    """An address (e-mail, phone, handle) by which inbound contacts find their customer; unique per channel.

    Addresses are stored normalised (lower-case e-mail, E.164 phone) by ``contacts.services.normalize_address``.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    channel = models.CharField(max_length=16, choices=IdentityChannel.choices)
    address = models.CharField(max_length=254)
    is_primary = models.BooleanField(default=False)
    verified = models.BooleanField(default=False)
    # Set when mail to the address bounced for good (the mailbox does not exist); agents see it beside the address.
    undeliverable_at = models.DateTimeField(null=True, blank=True)
    # db_default: bulk writers (the demo's COPY, the benches' INSERTs) that do not name the column keep working
    undeliverable_reason = models.CharField(max_length=300, blank=True, default="", db_default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("contact identity")
        verbose_name_plural = _("contact identities")
        ordering = ["channel", "address"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "address"], name="identity_channel_address_unique"),
            models.CheckConstraint(
                condition=~models.Q(channel=IdentityChannel.EMAIL) | models.Q(address=Lower("address")),
                name="identity_email_lowercase",
            ),
            models.CheckConstraint(
                condition=~models.Q(channel=IdentityChannel.PHONE) | models.Q(address__regex=r"^\+[1-9][0-9]{6,14}$"),
                name="identity_phone_e164",
            ),
            models.CheckConstraint(condition=~models.Q(address=""), name="identity_address_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}: {self.address}"


class Note(models.Model):
    """A note an agent or supervisor keeps on a customer; part of the customer timeline."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["customer", "-created_at"], name="note_customer_created")]

    def __str__(self) -> str:
        if self.created_at is None:  # not saved yet (e.g. an admin inline row being added)
            return f"Note on {self.customer_id}"
        return f"Note on {self.customer_id} at {self.created_at:%Y-%m-%d %H:%M}"


class ConsentRecord(models.Model):
    """One change of a customer's consent for one purpose, with where it came from and when (append-only history).

    ``Customer.survey_opt_out``, ``marketing_consent`` and ``recording_consent`` stay the current state that senders
    read; each change of them through ``contacts.services.customers.customer_update`` appends a record here.
    """

    class Kind(models.TextChoices):
        SURVEYS = "surveys", "surveys"
        MARKETING = "marketing", "marketing"
        RECORDING = "recording", "call recording"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    granted = models.BooleanField()
    source = models.CharField(max_length=40, help_text="where it was given or withdrawn: api, admin, survey link…")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["customer", "kind", "-at", "-id"]
