"""Input and output shapes of the queues' API."""

from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agents.access import Viewer
from agents.models import MAX_SKILL_LEVEL, MIN_SKILL_LEVEL, Skill, Team
from config.api.serializers import MAX_INT, RejectUnknownFieldsMixin
from config.choices import Channel
from crm.choices import SurveyKind
from crm.sla.models import SLAPolicy

from ..models import Queue
from ..selectors import queue_visibility_q
from ..services.queues import SkillRequirement


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
    accept_timeout_seconds = serializers.IntegerField(
        min_value=1,
        max_value=MAX_INT,
        allow_null=True,
        default=30,
        help_text="an offer not accepted within this goes back to the queue and its agent to not_ready; "
        "null: offers wait",
    )
    auto_accept = serializers.BooleanField(
        default=False, help_text="work is accepted as it is assigned (e.g. email: nobody has to pick it up)"
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
            raise serializers.ValidationError(_("Each skill may be required once."))
        return value

    def validate_service_level_target(self, value: Decimal) -> Decimal:
        if not Decimal(0) < value <= Decimal(1):
            raise serializers.ValidationError(_("Must be greater than 0 and at most 1."))
        return value

    def validate(self, attrs: dict) -> dict:
        viewer: Viewer | None = self.context.get("viewer")
        if viewer is not None and not viewer.unrestricted and "team" in attrs and attrs["team"] is None:
            raise serializers.ValidationError(
                {"team": [_("Give one of your teams: only unrestricted callers manage queues shared by all teams.")]}
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
    accept_timeout_seconds = serializers.IntegerField(allow_null=True)
    auto_accept = serializers.BooleanField()
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
