"""Filter fields every list endpoint shares (django-filter)."""

import copy
from datetime import UTC

from django import forms
from django.http import QueryDict
from django.utils.translation import get_language, gettext
from django_filters import rest_framework as filters
from django_filters import utils as filter_utils
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError

MAX_ID = 2**63 - 1


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(filters.Filter):
    """An object id: a positive 64-bit integer (anything else is a 400, never a database error)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(filters.TypedChoiceFilter):
    """``true`` or ``false``; anything else is a 400 (django-filter's BooleanFilter silently ignores "maybe")."""

    def __init__(self, **kwargs):
        super().__init__(choices=[("true", "true"), ("false", "false")], coerce=lambda value: value == "true", **kwargs)


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, converted to UTC: PostgreSQL refuses offsets beyond ±15:59 that Python accepts."""

    def to_python(self, value):
        parsed = super().to_python(value)
        try:
            return parsed.astimezone(UTC) if parsed is not None else None
        except OverflowError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class UtcDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class NonEmptyChoiceField(forms.ChoiceField):
    """A choice that, when the parameter is given, must be one of the choices: ``?status=`` is a 400 too."""

    def clean(self, value):
        if value == "":
            raise forms.ValidationError(
                gettext("Choose one of: %(join)s.")
                % {"join": ", ".join(str(key) for key, _ in self.choices if key != "")},
                code="invalid_choice",
            )
        return super().clean(value)


class NonEmptyChoiceFilter(filters.ChoiceFilter):
    field_class = NonEmptyChoiceField


class StaticFilterSet(filters.FilterSet):
    """A filter set whose filters are the same for every request (no per-request querysets): its form class is built
    once per language and kept, instead of once per request (``type(...)`` of a new class and its fields on every
    list call cost more than the list's query). Each request still gets its own form, with its own fields, and its own
    filters: shallow copies (django-filter deep-copies them, their choices and help texts included: a tenth of a list
    page's CPU), which is enough for filters that hold no per-request state."""

    _form_classes: dict

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._form_classes = {}

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        # django-filter's FilterSet.__init__, but for the copy of the filters
        if queryset is None:
            queryset = self._meta.model._default_manager.all()
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self.filters = {name: copy.copy(declared) for name, declared in self.base_filters.items()}
        for declared in self.filters.values():
            declared.model = queryset.model
            declared.parent = self

    def get_form_class(self):
        language = get_language()
        form_class = self._form_classes.get(language)
        if form_class is None:
            form_class = self._form_classes[language] = super().get_form_class()
        return form_class


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter ignores an empty parameter (``?status=`` filters nothing); here a typed one is a 400.

    The schema promises a choice, a boolean, a number or a date-time: an empty value is none of them, and
    silently answering with everything would hide the client's mistake. Free-text parameters may be empty.
    """

    def filter_queryset(self, request, queryset, view):
        # DjangoFilterBackend.filter_queryset's steps on the one filter set built here (calling it would build a
        # second: deep copies of every filter and form field, a fifth of a list page's CPU)
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        errors = {
            name: ["Give a value, or leave the parameter out."]
            for name, declared in filterset.filters.items()
            if not issubclass(declared.field_class, forms.CharField) and "" in request.query_params.getlist(name)
        }
        if errors:
            raise ValidationError(errors)
        if not filterset.is_valid() and self.raise_exception:
            raise filter_utils.translate_validation(filterset.errors)
        return filterset.qs
