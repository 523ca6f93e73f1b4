"""``config.api.serializers.OutputModelSerializer``: an answer serializer's fields are built from the model once per
class and cloned per serializer; the answers are what ``ModelSerializer`` builds anew each time, and no serializer
shares a field (bound to it) with another."""

import pytest
from rest_framework import serializers

from config.api.serializers import OutputModelSerializer
from crm.interactions.api.serializers import InteractionOutputSerializer, MessageOutputSerializer
from tests.crm.factories import InteractionFactory, MessageFactory

pytestmark = pytest.mark.django_db


def _as_model_serializer_builds_it(cls):
    """The same serializer with ``ModelSerializer``'s own ``get_fields`` (built afresh on every instance)."""
    return type(f"Plain{cls.__name__}", (cls,), {"get_fields": serializers.ModelSerializer.get_fields})


@pytest.mark.parametrize(
    ("cls", "make"),
    [
        (MessageOutputSerializer, lambda: MessageFactory(body="Hallo ✓", attachments=[])),
        (InteractionOutputSerializer, lambda: InteractionFactory(tags=["vip"], subject="Refund")),
    ],
)
def test_the_answer_is_what_model_serializer_gives(cls, make):
    made = make()
    ours, plain = cls(made), _as_model_serializer_builds_it(cls)(made)
    assert ours.data == plain.data
    assert {name: type(field) for name, field in ours.fields.items()} == {
        name: type(field) for name, field in plain.fields.items()
    }


def test_fields_are_built_once_per_class_and_never_shared():
    first, second = MessageOutputSerializer(), MessageOutputSerializer()
    first.fields, second.fields  # noqa: B018  (built on first use)
    templates = MessageOutputSerializer.__dict__["_field_templates"]
    assert set(first.fields) == set(second.fields) == set(templates)
    for name in templates:
        # each serializer binds its own clone; the class's template stays unbound
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].parent is first and second.fields[name].parent is second
        assert templates[name].parent is None


def test_a_subclass_builds_its_own():
    MessageOutputSerializer().fields  # noqa: B018  (the parent's templates exist first)

    class WithLength(MessageOutputSerializer):
        length = serializers.SerializerMethodField()

        class Meta(MessageOutputSerializer.Meta):
            fields = [*MessageOutputSerializer.Meta.fields, "length"]

        def get_length(self, message):
            return len(message.body)

    message = MessageFactory(body="four")
    assert WithLength(message).data["length"] == 4
    assert "length" not in MessageOutputSerializer(message).data
    assert issubclass(WithLength, OutputModelSerializer)
