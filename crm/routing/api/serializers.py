"""Input and output shapes of the set-up resources: queues, SLA policies and the customer timeline."""

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agents.access import Viewer
from agents.models import MAX_SKILL_LEVEL, MIN_SKILL_LEVEL, Skill, Team
from config.api.serializers import ErrorSerializer, RejectUnknownFieldsMixin  # noqa: F401
from config.choices import Channel

from ...choices import EscalationAction, InteractionStatus, MessageDirection, Priority, SLAClock, SurveyKind
from ...models import BusinessHours, Queue, SLAPolicy
from ...selectors.queues import queue_visibility_q
from ...selectors.timeline import TimelineKind
from ...services.business_hours import is_known_time_zone
from ...services.calendars import MAX_HOLIDAYS, MAX_PERIODS, HolidaySpec, PeriodSpec, business_hours_check
from ...services.queues import SkillRequirement, TargetSpec
from ...services.sla import MAX_STEPS, sla_check_escalation_steps

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


class EscalationStepSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """One step of a policy's escalation plan, run once per clock run when it falls due."""

    target = serializers.ChoiceField(choices=SLAClock.choices, help_text="the clock the step watches")
    action = serializers.ChoiceField(choices=EscalationAction.choices)
    at = serializers.FloatField(
        required=False,
        min_value=0,
        max_value=1,
        help_text="fraction of the target elapsed, > 0 and ≤ 1 (0.8: at 80 %; 1: at the breach)",
    )
    after_seconds = serializers.IntegerField(
        required=False, min_value=0, max_value=MAX_INT, help_text="instead of at: SLA seconds after the breach"
    )
    queue = serializers.IntegerField(required=False, min_value=1, help_text="move_to_queue only: the queue's id")

    def validate(self, attrs: dict) -> dict:
        try:
            sla_check_escalation_steps([attrs])
        except DjangoValidationError as exc:
            # one step checked alone: drop the "Step 1: " its position would add in a list
            raise serializers.ValidationError([m.split(": ", 1)[-1] for m in exc.messages]) from None
        return attrs


class SLAPolicyInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """An SLA policy as written.

    The flat fields ``channel``, ``priority``, ``first_response_seconds``, ``next_response_seconds`` and
    ``resolution_seconds`` describe the policy's **default target** (stored as its ``is_default`` target
    row; an empty channel or null priority: any). ``targets`` holds **overrides** for other
    (channel, priority) pairs; the most specific matching target wins (see ``crm.services.sla``). A policy
    needs at least one of the two. On update (PUT/PATCH) each part given replaces that part: the flat
    fields the default target (on PATCH, merged over the current one), ``targets`` all overrides.
    ``business_hours``: the id of a calendar the targets count in, or null for calendar time.
    ``escalation_steps``: the ordered plan (see ``EscalationStepSerializer``). ``pause_on_hold``: the clocks
    stop while the interaction is on hold. A change recomputes the due times of the open interactions.
    """

    name = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=5000, allow_blank=True, default="")
    channel = serializers.ChoiceField(
        choices=Channel.choices, allow_blank=True, allow_null=True, required=False, help_text="empty: any channel"
    )
    priority = serializers.IntegerField(
        min_value=min(Priority.values),
        max_value=max(Priority.values),
        allow_null=True,
        required=False,
        help_text="null: any priority",
    )
    first_response_seconds = serializers.IntegerField(min_value=1, max_value=MAX_INT, required=False)
    next_response_seconds = serializers.IntegerField(min_value=1, max_value=MAX_INT, allow_null=True, required=False)
    resolution_seconds = serializers.IntegerField(min_value=1, max_value=MAX_INT, allow_null=True, required=False)
    business_hours = serializers.PrimaryKeyRelatedField(
        queryset=BusinessHours.objects.all(), allow_null=True, default=None
    )
    escalation_steps = serializers.ListField(child=EscalationStepSerializer(), max_length=MAX_STEPS, default=list)
    pause_on_hold = serializers.BooleanField(default=False)
    is_active = serializers.BooleanField(default=True)
    # A ListField rather than many=True: its length limits appear in the schema (minItems / maxItems).
    targets = serializers.ListField(child=SLATargetInputSerializer(), max_length=200, required=False)

    def validate_targets(self, value: list[dict]) -> list[dict]:
        keys = [(t["channel"], t["priority"]) for t in value]
        if len(set(keys)) != len(keys):
            raise serializers.ValidationError("Each (channel, priority) pair may appear once.")
        return value

    def validate_escalation_steps(self, value: list[dict]) -> list[dict]:
        try:
            return sla_check_escalation_steps(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None

    def validate(self, attrs: dict) -> dict:
        flat = {name: attrs[name] for name in DEFAULT_TARGET_FIELDS if name in attrs}
        instance_default = self.context.get("default_target")
        if self.partial and flat and instance_default is not None:
            flat = {**vars(instance_default), **flat}
        if flat and "first_response_seconds" not in flat:
            raise serializers.ValidationError(
                {"first_response_seconds": ["Required with the policy's other target fields."]}
            )
        if flat:
            spec = TargetSpec(
                channel=flat.get("channel") or "",
                priority=flat.get("priority"),
                first_response_seconds=flat["first_response_seconds"],
                next_response_seconds=flat.get("next_response_seconds"),
                resolution_seconds=flat.get("resolution_seconds"),
            )
            if spec.resolution_seconds is not None and spec.resolution_seconds < spec.first_response_seconds:
                raise serializers.ValidationError(
                    {"resolution_seconds": ["Cannot be shorter than first_response_seconds."]}
                )
            attrs["default_target"] = spec
        elif not self.partial:
            attrs["default_target"] = None
        if not self.partial and not flat and not attrs.get("targets"):
            raise serializers.ValidationError(
                {"targets": ["Give the policy's target (first_response_seconds …) or at least one target."]}
            )
        return attrs

    @staticmethod
    def target_specs(validated: dict) -> list[TargetSpec] | None:
        if "targets" not in validated:
            return None
        return [TargetSpec(**t) for t in validated["targets"]]

    @staticmethod
    def service_kwargs(validated: dict) -> dict:
        """The validated data as the policy services take it (targets and default target split out)."""
        data = {k: v for k, v in validated.items() if k not in {*DEFAULT_TARGET_FIELDS, "targets", "default_target"}}
        return data


DEFAULT_TARGET_FIELDS = ("channel", "priority", "first_response_seconds", "next_response_seconds", "resolution_seconds")


class SLATargetOutputSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices, allow_blank=True, help_text="empty: any channel")
    priority = serializers.IntegerField(allow_null=True, help_text="null: any priority")
    first_response_seconds = serializers.IntegerField()
    next_response_seconds = serializers.IntegerField(allow_null=True)
    resolution_seconds = serializers.IntegerField(allow_null=True)


class EscalationStepOutputSerializer(serializers.Serializer):
    target = serializers.ChoiceField(choices=SLAClock.choices)
    action = serializers.ChoiceField(choices=EscalationAction.choices)
    at = serializers.FloatField(required=False)
    after_seconds = serializers.IntegerField(required=False)
    queue = serializers.IntegerField(required=False)


class SLAPolicyOutputSerializer(serializers.Serializer):
    """A policy: its default target as flat fields (null when it has none), its overrides as ``targets``."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    channel = serializers.SerializerMethodField(help_text="the default target's channel; empty: any")
    priority = serializers.SerializerMethodField(help_text="the default target's priority; null: any")
    first_response_seconds = serializers.SerializerMethodField()
    next_response_seconds = serializers.SerializerMethodField()
    resolution_seconds = serializers.SerializerMethodField()
    business_hours = serializers.IntegerField(source="business_hours_id", allow_null=True)
    escalation_steps = EscalationStepOutputSerializer(many=True)
    pause_on_hold = serializers.BooleanField()
    is_active = serializers.BooleanField()
    targets = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @staticmethod
    def _default(policy):
        return next((t for t in policy.targets.all() if t.is_default), None)

    @extend_schema_field(serializers.ChoiceField(choices=Channel.choices, allow_blank=True, allow_null=True))
    def get_channel(self, policy):
        default = self._default(policy)
        return default.channel if default else None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_priority(self, policy):
        default = self._default(policy)
        return default.priority if default else None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_first_response_seconds(self, policy):
        default = self._default(policy)
        return default.first_response_seconds if default else None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_next_response_seconds(self, policy):
        default = self._default(policy)
        return default.next_response_seconds if default else None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_resolution_seconds(self, policy):
        default = self._default(policy)
        return default.resolution_seconds if default else None

    @extend_schema_field(SLATargetOutputSerializer(many=True))
    def get_targets(self, policy):
        return SLATargetOutputSerializer([t for t in policy.targets.all() if not t.is_default], many=True).data


# --- business hours --------------------------------------------------------------------------------


class PeriodSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    weekday = serializers.IntegerField(min_value=0, max_value=6, help_text="0 Monday … 6 Sunday")
    start = serializers.TimeField(format="%H:%M", help_text="wall-clock time in the calendar's time zone")
    end = serializers.TimeField(
        format="%H:%M", help_text="at or before start: runs past midnight; 00:00–00:00 is the whole day"
    )


class HolidaySerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    date = serializers.DateField()
    name = serializers.CharField(max_length=100, allow_blank=True, default="")
    recurring = serializers.BooleanField(default=False, help_text="every year on this month and day")


class BusinessHoursInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """A calendar as written; ``periods`` / ``holidays``, when given, replace them all."""

    name = serializers.CharField(max_length=100)
    time_zone = serializers.CharField(max_length=64, help_text="IANA name, e.g. Europe/Berlin")
    periods = serializers.ListField(child=PeriodSerializer(), min_length=1, max_length=MAX_PERIODS)
    holidays = serializers.ListField(child=HolidaySerializer(), max_length=MAX_HOLIDAYS, required=False)

    def validate_time_zone(self, value: str) -> str:
        if not is_known_time_zone(value):
            raise serializers.ValidationError(f"'{value}' is not an IANA time zone (e.g. Europe/Berlin, UTC).")
        return value

    def validate(self, attrs: dict) -> dict:
        try:
            business_hours_check(
                periods=[PeriodSpec(**p) for p in attrs["periods"]] if "periods" in attrs else None,
                holidays=[HolidaySpec(**h) for h in attrs["holidays"]] if "holidays" in attrs else None,
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return attrs


class BusinessHoursOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    time_zone = serializers.CharField()
    periods = PeriodSerializer(many=True)
    holidays = HolidaySerializer(many=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


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
