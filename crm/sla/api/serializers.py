"""Input and output shapes of the SLA resources: SLA policies and business-hours calendars."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api.serializers import MAX_INT, RejectUnknownFieldsMixin
from config.choices import Channel
from crm.choices import EscalationAction, Priority, SLAClock

from ..models import BusinessHours
from ..services.business_hours import is_known_time_zone
from ..services.calendars import MAX_HOLIDAYS, MAX_PERIODS, HolidaySpec, PeriodSpec, business_hours_check
from ..services.policies import TargetSpec
from ..services.steps import MAX_STEPS, sla_check_escalation_steps

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
                {"resolution_seconds": [_("Cannot be shorter than first_response_seconds.")]}
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
    (channel, priority) pairs; the most specific matching target wins (see ``crm.sla.services.engine``). A policy
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
            raise serializers.ValidationError(_("Each (channel, priority) pair may appear once."))
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
                {"first_response_seconds": [_("Required with the policy's other target fields.")]}
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
                    {"resolution_seconds": [_("Cannot be shorter than first_response_seconds.")]}
                )
            attrs["default_target"] = spec
        elif not self.partial:
            attrs["default_target"] = None
        if not self.partial and not flat and not attrs.get("targets"):
            raise serializers.ValidationError(
                {"targets": [_("Give the policy's target (first_response_seconds …) or at least one target.")]}
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
            raise serializers.ValidationError(
                _("'%(value)s' is not an IANA time zone (e.g. Europe/Berlin, UTC).") % {"value": value}
            )
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
