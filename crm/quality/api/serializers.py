"""Output shapes of quality reviews (read-only over the API: reviews are made and scored in the admin)."""

from rest_framework import serializers

from ...choices import ReviewStatus


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
