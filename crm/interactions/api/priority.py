"""The priority of an interaction in the API: 1–4, or its name."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.choices import Priority

PRIORITY_NAMES = {label.lower(): value for value, label in Priority.choices}


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "enum": Priority.values},
            {"type": "string", "enum": list(PRIORITY_NAMES)},
        ],
        "description": "1 low, 2 normal, 3 high, 4 urgent; the names are accepted too.",
    }
)
class PriorityField(serializers.Field):
    """Priority as 1–4 or its name (low, normal, high, urgent); always answered as the number."""

    default_error_messages = {"invalid": "Priority is 1, 2, 3 or 4, or one of low, normal, high, urgent."}

    def to_internal_value(self, data):
        if isinstance(data, str):
            text = data.strip().lower()
            if text in PRIORITY_NAMES:
                return PRIORITY_NAMES[text]
            data = int(text) if text.isdigit() else data
        if isinstance(data, int) and not isinstance(data, bool) and data in Priority.values:
            return data
        self.fail("invalid")

    def to_representation(self, value):
        return int(value)
