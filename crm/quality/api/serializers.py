"""Output shapes of quality reviews (read-only over the API: reviews are made and scored in the admin) and of
canned responses (read-only too: written in the admin)."""

from rest_framework import serializers

from crm.choices import ReviewStatus

# --- reviews ---------------------------------------------------------------------------------------


class ReviewScoreOutputSerializer(serializers.Serializer):
    criterion = serializers.CharField(source="criterion.name")
    weight = serializers.IntegerField(source="criterion.weight")
    score = serializers.IntegerField(help_text="0–5")


class ReviewOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    interaction = serializers.IntegerField(source="interaction_id")
    agent = serializers.IntegerField(source="agent_id", allow_null=True)
    scorecard = serializers.CharField(source="scorecard.name")
    status = serializers.ChoiceField(choices=ReviewStatus.choices)
    total_score = serializers.DecimalField(
        max_digits=5, decimal_places=2, allow_null=True, coerce_to_string=False, help_text="weighted, 0–100"
    )
    comment = serializers.CharField()
    scores = ReviewScoreOutputSerializer(many=True)
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)


# --- canned responses ------------------------------------------------------------------------------


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
