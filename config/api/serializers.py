"""Serializer helpers shared by every API app."""

import copy
import datetime
import functools
from collections.abc import Callable, Mapping
from decimal import Decimal
from types import BuiltinFunctionType, FunctionType
from typing import Any

from django.db.models import QuerySet
from django.utils.functional import Promise
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


# arguments a field only reads, so its clones may share them: DRF deep-copies every argument of every field on every
# request (a ChoiceField's choices, a related field's queryset), a tenth of a create's CPU
_SHARED_TYPES = (str, int, float, bool, type(None), Decimal, Promise, type, FunctionType, BuiltinFunctionType, QuerySet)
_SHARED_KEYS = frozenset({"validators", "regex", "choices"})


def _cloned(value, key: str = ""):
    if isinstance(value, serializers.Field):
        return _field_clone(value)
    if key in _SHARED_KEYS or isinstance(value, _SHARED_TYPES):
        return value
    return copy.deepcopy(value)


def _field_clone(field: serializers.Field) -> serializers.Field:
    """What ``copy.deepcopy(field)`` gives (a new field from the declared arguments), without copying what it only
    reads. A new instance per request as before, so nothing bound is shared between threads.

    A declared field is never bound, so a plain field (no serializer, no field inside) is copied as its ``__init__``
    left it, each list and dict of it copied too (validators, error messages, choices): the same state, without
    running ``__init__`` again (its validators, its error messages)."""
    state = field.__dict__
    if field.parent is None and not isinstance(field, serializers.BaseSerializer):
        if _holds_no_field(field):
            clone = object.__new__(field.__class__)
            clone.__dict__ = {
                key: value.copy() if type(value) in (list, dict) else value for key, value in state.items()
            }
            return clone
    args = [_cloned(item) for item in field._args]
    kwargs = {key: _cloned(value, key) for key, value in field._kwargs.items()}
    return field.__class__(*args, **kwargs)


@functools.cache  # keeps the declared fields it saw: they live as long as their serializer classes anyway
def _holds_no_field(field: serializers.Field) -> bool:
    """Whether a declared field holds no other field (a child, a nested serializer), worked out once per field: a
    declared field is never bound nor changed, and every request clones each of them (a fifth of a clone's CPU)."""
    return not any(isinstance(value, serializers.Field) for value in field.__dict__.values())


class InputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """Base of request-body serializers: a plain Serializer that refuses unknown fields."""

    def get_fields(self):
        return {name: _field_clone(field) for name, field in self._declared_fields.items()}


class OutputModelSerializer(serializers.ModelSerializer):
    """Base of answer serializers built from a model: the fields are worked out once per class and cloned for each
    serializer. ``ModelSerializer`` introspects the model and builds every field anew for every instance (an eighth
    of a message reply's CPU); what it builds depends on the class alone (its ``Meta`` and declared fields)."""

    def get_fields(self):
        templates = type(self).__dict__.get("_field_templates")
        if templates is None:  # two threads at once both build them: the same fields, either kept
            templates = super().get_fields()
            type(self)._field_templates = templates
        return {name: _field_clone(field) for name, field in templates.items()}


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
    # UTC out (the default): a value read from the database is UTC already (config.timestamps), no conversion
    utc_out = zone is datetime.UTC or getattr(zone, "key", None) in ("UTC", "Etc/UTC")

    def iso(value):
        if value is None:
            return None
        if value.tzinfo is None:
            return declared(value)
        if utc_out and value.tzinfo is datetime.UTC:
            return value.isoformat()[:-6] + "Z"
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return iso
