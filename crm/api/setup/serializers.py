"""Input and output shapes of the set-up resources: queues, SLA policies and the customer timeline."""

from decimal import Decimal

from django.utils import timezone
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agents.access import Viewer
from agents.models import MAX_SKILL_LEVEL, MIN_SKILL_LEVEL, Skill, Team
from config.api.serializers import ErrorSerializer, RejectUnknownFieldsMixin  # noqa: F401
from config.choices import Channel

from ...choices import InteractionStatus, MessageDirection, Priority, SurveyKind
from ...models import Queue, SLAPolicy
from ...selectors.queues import queue_visibility_q
from ...selectors.timeline import TimelineKind
from ...services.queues import SkillRequirement, TargetSpec

# The columns are PostgreSQL integers; a larger value would be a database error, not a 400.
MAX_INT = 2_147_483_647


class DistinctListField(serializers.ListField):
    """A list whose items must all differ (documented as ``uniqueItems`` in the schema)."""

    default_error_messages = {"duplicates": "Each value may be listed once."}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if len(set(value)) != len(value):
            self.fail("duplicates")
        return value


class DistinctListFieldExtension(OpenApiSerializerFieldExtension):
    target_class = DistinctListField

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        return {**schema, "uniqueItems": True}


# --- queues ----------------------------------------------------------------------------------------


class QueueSkillInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    skill = serializers.PrimaryKeyRelatedField(queryset=Skill.objects.all())
    min_level = serializers.IntegerField(min_value=MIN_SKILL_LEVEL, max_value=MAX_SKILL_LEVEL, default=MIN_SKILL_LEVEL)


class QueueInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """A queue as written. ``required_skills``, when given, replaces all requirements; omitted, they stay."""

    name = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=5000, allow_blank=True, default="")
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), allow_null=True, default=None)
    channels = DistinctListField(
        child=serializers.ChoiceField(choices=Channel.choices),
        allow_empty=False,
        min_length=1,
        max_length=len(Channel.choices),
    )
    required_skills = serializers.ListField(child=QueueSkillInputSerializer(), required=False, max_length=100)
    priority = serializers.IntegerField(min_value=1, max_value=10, default=5, help_text="1 (lowest) to 10 (highest)")
    sla_policy = serializers.PrimaryKeyRelatedField(queryset=SLAPolicy.objects.all(), allow_null=True, default=None)
    overflow_queue = serializers.PrimaryKeyRelatedField(queryset=Queue.objects.all(), allow_null=True, default=None)
    overflow_after_seconds = serializers.IntegerField(
        min_value=1, max_value=MAX_INT, allow_null=True, default=None, help_text="set together with overflow_queue"
    )
    service_level_seconds = serializers.IntegerField(min_value=1, max_value=MAX_INT, default=20)
    service_level_target = serializers.DecimalField(
        max_digits=4,
        decimal_places=3,
        coerce_to_string=False,
        default=Decimal("0.800"),
        help_text="the share answered within service_level_seconds, in (0, 1]",
    )
    surveys_enabled = serializers.BooleanField(default=True, help_text="send a survey after each resolution")
    survey_kind = serializers.ChoiceField(choices=SurveyKind.choices, default=SurveyKind.CSAT)
    survey_delay_seconds = serializers.IntegerField(
        min_value=0,
        max_value=MAX_INT,
        allow_null=True,
        default=None,
        help_text="seconds after resolution; null = the SURVEY_DISPATCH_DELAY setting",
    )
    is_active = serializers.BooleanField(default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        viewer: Viewer | None = self.context.get("viewer")
        if viewer is not None and not viewer.unrestricted:
            # A team-bound caller may only place queues in its own teams and overflow into queues it can see.
            self.fields["team"].queryset = Team.objects.filter(pk__in=viewer.team_ids)
            self.fields["overflow_queue"].queryset = Queue.objects.filter(queue_visibility_q(viewer))

    def validate_required_skills(self, value: list[dict]) -> list[dict]:
        skills = [item["skill"].pk for item in value]
        if len(set(skills)) != len(skills):
            raise serializers.ValidationError("Each skill may be required once.")
        return value

    def validate_service_level_target(self, value: Decimal) -> Decimal:
        if not Decimal(0) < value <= Decimal(1):
            raise serializers.ValidationError("Must be greater than 0 and at most 1.")
        return value

    def validate(self, attrs: dict) -> dict:
        viewer: Viewer | None = self.context.get("viewer")
        if viewer is not None and not viewer.unrestricted and "team" in attrs and attrs["team"] is None:
            raise serializers.ValidationError(
                {"team": ["Give one of your teams: only unrestricted callers manage queues shared by all teams."]}
            )
        return attrs

    @staticmethod
    def skill_requirements(validated: dict) -> list[SkillRequirement] | None:
        if "required_skills" not in validated:
            return None
        return [SkillRequirement(skill=r["skill"], min_level=r["min_level"]) for r in validated["required_skills"]]


class QueueSkillOutputSerializer(serializers.Serializer):
    skill = serializers.IntegerField(source="skill_id")
    name = serializers.CharField(source="skill.name")
    min_level = serializers.IntegerField()


class QueueOutputSerializer(serializers.Serializer):
    """A queue with its live figures: ``waiting`` (queued now) and ``oldest_waiting_seconds``."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    team = serializers.IntegerField(source="team_id", allow_null=True)
    channels = serializers.ListField(child=serializers.ChoiceField(choices=Channel.choices))
    required_skills = QueueSkillOutputSerializer(source="queue_skills", many=True)
    priority = serializers.IntegerField()
    sla_policy = serializers.IntegerField(source="sla_policy_id", allow_null=True)
    overflow_queue = serializers.IntegerField(source="overflow_queue_id", allow_null=True)
    overflow_after_seconds = serializers.IntegerField(allow_null=True)
    service_level_seconds = serializers.IntegerField()
    service_level_target = serializers.DecimalField(max_digits=4, decimal_places=3, coerce_to_string=False)
    surveys_enabled = serializers.BooleanField()
    survey_kind = serializers.ChoiceField(choices=SurveyKind.choices)
    survey_delay_seconds = serializers.IntegerField(allow_null=True)
    is_active = serializers.BooleanField()
    waiting = serializers.IntegerField(help_text="interactions queued now")
    oldest_waiting_seconds = serializers.SerializerMethodField(help_text="age of the oldest queued interaction")
    created_at = serializers.DateTimeField()

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_oldest_waiting_seconds(self, queue) -> int | None:
        oldest = getattr(queue, "oldest_queued_at", None)
        if oldest is None:
            return None
        return max(0, int((timezone.now() - oldest).total_seconds()))


# --- SLA policies ----------------------------------------------------------------------------------


class SLATargetInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    channel = serializers.ChoiceField(
        choices=Channel.choices, allow_blank=True, default="", help_text="empty: any channel"
    )
    priority = serializers.IntegerField(
        min_value=min(Priority.values),
        max_value=max(Priority.values),
        allow_null=True,
        default=None,
        help_text="null: any priority",
    )
    first_response_seconds = serializers.IntegerField(min_value=1, max_value=MAX_INT)
    next_response_seconds = serializers.IntegerField(min_value=1, max_value=MAX_INT, allow_null=True, default=None)
    resolution_seconds = serializers.IntegerField(min_value=1, max_value=MAX_INT, allow_null=True, default=None)

    def validate(self, attrs: dict) -> dict:
        resolution = attrs.get("resolution_seconds")
        if resolution is not None and resolution < attrs["first_response_seconds"]:
            raise serializers.ValidationError(
                {"resolution_seconds": ["Cannot be shorter than first_response_seconds."]}
            )
        return attrs


class SLAPolicyInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """An SLA policy as written; ``targets``, when given, replaces all its targets."""

    name = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=5000, allow_blank=True, default="")
    business_hours_only = serializers.BooleanField(default=False)
    is_active = serializers.BooleanField(default=True)
    # A ListField rather than many=True: its length limits appear in the schema (minItems / maxItems).
    targets = serializers.ListField(child=SLATargetInputSerializer(), allow_empty=False, min_length=1, max_length=200)

    def validate_targets(self, value: list[dict]) -> list[dict]:
        keys = [(t["channel"], t["priority"]) for t in value]
        if len(set(keys)) != len(keys):
            raise serializers.ValidationError("Each (channel, priority) pair may appear once.")
        return value

    @staticmethod
    def target_specs(validated: dict) -> list[TargetSpec] | None:
        if "targets" not in validated:
            return None
        return [TargetSpec(**t) for t in validated["targets"]]


class SLATargetOutputSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices, allow_blank=True, help_text="empty: any channel")
    priority = serializers.IntegerField(allow_null=True, help_text="null: any priority")
    first_response_seconds = serializers.IntegerField()
    next_response_seconds = serializers.IntegerField(allow_null=True)
    resolution_seconds = serializers.IntegerField(allow_null=True)


class SLAPolicyOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    business_hours_only = serializers.BooleanField()
    is_active = serializers.BooleanField()
    targets = SLATargetOutputSerializer(many=True)
    created_at = serializers.DateTimeField()


# --- customer timeline -----------------------------------------------------------------------------


class TimelineQuerySerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    cursor = serializers.CharField(required=False, max_length=500, help_text="the `next` link's cursor")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=200, default=50)


class TimelineEntryOutputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=TimelineKind.choices)
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    interaction = serializers.IntegerField(source="interaction_id", allow_null=True)
    title = serializers.CharField(allow_blank=True, help_text="interaction subject, or survey kind")
    body = serializers.CharField(allow_blank=True, help_text="message, note or survey comment (first 500 characters)")
    score = serializers.IntegerField(allow_null=True, help_text="survey answers only")
    channel = serializers.ChoiceField(choices=Channel.choices, allow_blank=True)
    status = serializers.ChoiceField(choices=InteractionStatus.choices, allow_blank=True, help_text="interactions only")
    direction = serializers.ChoiceField(
        choices=MessageDirection.choices,
        allow_blank=True,
        help_text="interactions: inbound/outbound; messages also internal",
    )


class TimelineOutputSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    results = TimelineEntryOutputSerializer(many=True)
