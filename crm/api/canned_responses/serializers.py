"""Shapes of the canned-response API."""

from rest_framework import serializers


class CannedResponseQuerySerializer(serializers.Serializer):
    """The list's query parameters; paging and ordering parameters pass through to their own handlers."""

    queue = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, required=False, help_text="queue id: its responses and the global ones"
    )
    search = serializers.CharField(max_length=100, required=False, help_text="part of the title, shortcut or body")
    is_active = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="only unrestricted callers see inactive ones at all"
    )


class CannedResponseOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    body = serializers.CharField()
    shortcut = serializers.CharField(allow_blank=True)
    queue = serializers.IntegerField(source="queue_id", allow_null=True, help_text="empty: offered in every queue")
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
