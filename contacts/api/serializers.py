"""Customers and organizations on the wire: one serializer per direction (input is checked, output is shown)."""

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from config.api.serializers import ErrorSerializer, OutputModelSerializer, RejectUnknownFieldsMixin  # noqa: F401

from .. import validation
from ..choices import IdentityChannel, Tier
from ..models import ContactIdentity, Customer, Note, Organization
from ..services.organizations import MAX_NOTES_LENGTH
from ..validation import MAX_TAG_LENGTH, MAX_TAGS


def _as_drf_error(cleaner, value):
    try:
        return cleaner(value)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages) from None


# --- identities ------------------------------------------------------------------------------------------------


class IdentityInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    channel = serializers.ChoiceField(choices=IdentityChannel.choices)
    address = serializers.CharField(max_length=254, help_text="normalised: lower-case e-mail, E.164 phone")
    verified = serializers.BooleanField(required=False, default=False)


class IdentityOutputSerializer(OutputModelSerializer):
    class Meta:
        model = ContactIdentity
        fields = ["id", "channel", "address", "is_primary", "verified", "created_at"]
        read_only_fields = fields


# --- customers -------------------------------------------------------------------------------------------------


class CustomerInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """What a caller may set on a customer. Values are checked again, and normalised, by the services."""

    name = serializers.CharField(max_length=200)
    email = serializers.EmailField(
        max_length=254, required=False, allow_blank=True, help_text="primary e-mail; stored lower-case"
    )
    phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True, help_text="primary phone; stored in E.164 (+14155552671)"
    )
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(), required=False, allow_null=True
    )
    language = serializers.RegexField(
        validation.LANGUAGE_PATTERN, max_length=16, required=False, help_text="BCP 47 code: en, pt-BR, zh-Hant-TW"
    )
    timezone = serializers.CharField(max_length=64, required=False, help_text="IANA time zone: Europe/Paris")
    tier = serializers.ChoiceField(choices=Tier.choices, required=False)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=MAX_TAG_LENGTH, allow_blank=True),
        max_length=MAX_TAGS,
        required=False,
        help_text="trimmed; blank and repeated tags are dropped",
    )
    attributes = serializers.DictField(required=False, help_text="custom attributes, a JSON object of at most 16 KB")
    survey_opt_out = serializers.BooleanField(required=False)
    marketing_consent = serializers.BooleanField(required=False)
    recording_consent = serializers.BooleanField(required=False, help_text="calls may be recorded (default true)")
    consent_source = serializers.CharField(
        max_length=40,
        required=False,
        help_text="where a consent change came from (recorded in the consent history): 'phone call', 'web form'; "
        "default 'api'",
    )

    # The services check these again; checking here too lets one 400 name every bad field at once.
    def validate_language(self, value):
        return _as_drf_error(validation.clean_language, value)

    def validate_timezone(self, value):
        return _as_drf_error(validation.clean_timezone, value)

    def validate_tags(self, value):
        return _as_drf_error(validation.clean_tags, value)

    def validate_attributes(self, value):
        return _as_drf_error(validation.clean_attributes, value)


class CustomerCreateInputSerializer(CustomerInputSerializer):
    identities = IdentityInputSerializer(
        many=True, required=False, max_length=50, help_text="further addresses (chat ids, social handles…)"
    )


class CustomerOutputSerializer(OutputModelSerializer):
    organization = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    tags = serializers.ListField(child=serializers.CharField(), read_only=True)
    attributes = serializers.DictField(read_only=True)
    identities = IdentityOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
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
            "identities",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


# --- notes -----------------------------------------------------------------------------------------------------


class NoteInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    body = serializers.CharField(max_length=settings.SWITCHBOARD_MAX_MESSAGE_LENGTH)


class NoteOutputSerializer(OutputModelSerializer):
    author = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True, help_text="empty for an API key")
    author_name = serializers.CharField(source="author.get_username", read_only=True, allow_null=True)

    class Meta:
        model = Note
        fields = ["id", "customer", "author", "author_name", "body", "created_at"]
        read_only_fields = fields


# --- organizations ---------------------------------------------------------------------------------------------


class OrganizationInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    name = serializers.CharField(max_length=200)
    domain = serializers.RegexField(
        validation.DOMAIN_PATTERN, max_length=200, required=False, allow_blank=True, help_text="e.g. example.com"
    )
    notes = serializers.CharField(required=False, allow_blank=True, max_length=MAX_NOTES_LENGTH)


class OrganizationOutputSerializer(OutputModelSerializer):
    customer_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Organization
        fields = ["id", "name", "domain", "notes", "customer_count", "created_at", "updated_at"]
        read_only_fields = fields
