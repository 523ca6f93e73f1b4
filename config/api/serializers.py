"""Serializer helpers shared by every API app."""

from collections.abc import Callable, Mapping
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

UNKNOWN_FIELD = "Unknown field."
READ_ONLY_FIELD = "This field is read-only."
# The columns are PostgreSQL integers; a larger value would be a database error, not a 400.
MAX_INT = 2_147_483_647


class RejectUnknownFieldsMixin:
    """Answer 400 for input fields the serializer does not know, one message per field.

    DRF silently drops unknown keys, so a misspelt ``priorty`` would be accepted and ignored; an
    integrator must hear about it. Read-only fields sent as input are refused the same way.
    ``unknown_field_messages`` lets a serializer explain a specific field (e.g. where to change it).
    The errors merge with the ordinary field errors, so one response lists every problem.
    """

    unknown_field_messages: Mapping[str, str] = {}

    def to_internal_value(self, data):
        errors = {}
        if isinstance(data, Mapping):
            for name in data:
                field = self.fields.get(name)
                if field is None:
                    errors[name] = [self.unknown_field_messages.get(name, UNKNOWN_FIELD)]
                elif field.read_only:
                    errors[name] = [self.unknown_field_messages.get(name, READ_ONLY_FIELD)]
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if errors and isinstance(exc.detail, Mapping):
                raise serializers.ValidationError({**exc.detail, **errors}) from None
            raise
        if errors:
            raise serializers.ValidationError(errors)
        return value


class InputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """Base of request-body serializers: a plain Serializer that refuses unknown fields."""


class StrictCharField(serializers.CharField):
    """A string field that refuses numbers: DRF's CharField turns ``12`` into ``"12"``, hiding a client's type error."""

    default_error_messages = {"invalid": "Not a valid string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class RejectUnknownFieldsSchema(OpenApiSerializerExtension):
    """Tell OpenAPI clients what the mixin enforces: a request body has no properties beyond those listed."""

    target_class = RejectUnknownFieldsMixin
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if direction == "request":
            schema["additionalProperties"] = False
        return schema


@extend_schema_serializer(component_name="Error")
class ErrorSerializer(serializers.Serializer):
    """Every error that is not about one field (config.api.exceptions): validation errors are field maps instead."""

    detail = serializers.CharField()
    code = serializers.CharField()
    status = serializers.IntegerField()


class CachedRelatedField(serializers.PrimaryKeyRelatedField):
    """A primary key answered by ``fetch(pk=, viewer=)`` — the object if the request's viewer may name it, else None
    — from a per-process cache (``config.rowcache``) instead of a query; the errors of a ``PrimaryKeyRelatedField``."""

    def __init__(self, *, fetch: Callable[..., Any], **kwargs):
        self.fetch = fetch
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            pk = int(data)
        except ValueError:
            self.fail("incorrect_type", data_type=type(data).__name__)
        viewer = self.context.get("viewer")
        obj = self.fetch(pk=pk, viewer=viewer) if viewer is not None and 0 < pk < 2**63 else None
        if obj is None:
            self.fail("does_not_exist", pk_value=data)
        return obj


def iso_datetime_writer(zone):
    """A function writing a datetime exactly as a declared ``DateTimeField`` does (ISO 8601 in ``zone``, "Z" for
    UTC, None for None), for hand-written ``to_representation`` on hot paths: DRF's field took a third of a list
    page's CPU (15 values a row). A naive value (never stored here) still goes through DRF's field."""
    declared = serializers.DateTimeField(default_timezone=zone).to_representation

    def iso(value):
        if value is None:
            return None
        if value.tzinfo is None:
            return declared(value)
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return iso
