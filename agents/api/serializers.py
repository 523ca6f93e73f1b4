"""Input and output shapes of the agents API. Input serializers only validate; services do the work."""

from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api.serializers import RejectUnknownFieldsMixin, StrictCharField
from config.choices import Channel

from ..access import NOBODY, Viewer
from ..breaks import MAX_BREAK_MINUTES
from ..choices import AgentStatus, BreakKind, BreakStatus, TrainingStatus
from ..models import MAX_SKILL_LEVEL, MIN_SKILL_LEVEL, Skill, Team
from ..selectors import team_visible
from ..validators import MAX_CAPACITY, MIN_CAPACITY, validate_capacity

MAX_SKILLS_PER_AGENT = 100
MAX_SUPERVISORS_PER_TEAM = 100
DESCRIPTION_MAX_LENGTH = 5000


# --- skills --------------------------------------------------------------------------------------


class SkillInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """A skill's name (unique regardless of case) and description."""

    name = StrictCharField(max_length=100)
    description = StrictCharField(max_length=DESCRIPTION_MAX_LENGTH, required=False, allow_blank=True)


class SkillOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    created_at = serializers.DateTimeField()


# --- teams ---------------------------------------------------------------------------------------


class TeamInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """A team's name (unique regardless of case), description and supervisors."""

    name = StrictCharField(max_length=100)
    description = StrictCharField(max_length=DESCRIPTION_MAX_LENGTH, required=False, allow_blank=True)
    supervisors = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        max_length=MAX_SUPERVISORS_PER_TEAM,
        required=False,
        help_text="user ids of the team's supervisors (replaces the list)",
    )

    def validate_supervisors(self, value: list[int]):
        ids = set(value)
        users = list(get_user_model().objects.filter(pk__in=ids))  # one query, however long the list
        missing = sorted(ids - {user.pk for user in users})
        if missing:
            raise serializers.ValidationError(
                _("Unknown user id(s): %(join)s.") % {"join": ", ".join(map(str, missing))}
            )
        return users


class TeamOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    supervisors = serializers.SerializerMethodField(help_text="user ids")
    agent_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_supervisors(self, team) -> list[int]:
        return [user.pk for user in team.supervisors.all()]  # prefetched by the selector


# --- agents --------------------------------------------------------------------------------------


class AgentSkillInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """A skill and the agent's level in it, 1 (novice) to 5 (expert)."""

    skill = serializers.PrimaryKeyRelatedField(queryset=Skill.objects.all(), help_text="skill id")
    level = serializers.IntegerField(min_value=MIN_SKILL_LEVEL, max_value=MAX_SKILL_LEVEL)


@extend_schema_field(
    {
        "type": "object",
        "description": f"interactions handled at once per channel ({', '.join(Channel.values)}), "
        f"{MIN_CAPACITY}–{MAX_CAPACITY}; a channel not listed is not handled",
        "additionalProperties": {"type": "integer", "minimum": MIN_CAPACITY, "maximum": MAX_CAPACITY},
        "example": {"voice": 1, "chat": 3, "email": 5},
    }
)
class CapacityField(serializers.DictField):
    child = serializers.IntegerField(min_value=MIN_CAPACITY, max_value=MAX_CAPACITY)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return validate_capacity(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


class _AgentInputBase(RejectUnknownFieldsMixin, serializers.Serializer):
    """An agent's profile. ``team`` must be a team the caller may see; a team-bound key must give one of its teams."""

    name = StrictCharField(max_length=200)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.none(), allow_null=True, help_text="team id")
    capacity = CapacityField(required=False)
    skills = AgentSkillInputSerializer(many=True, required=False, max_length=MAX_SKILLS_PER_AGENT)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Without a viewer in the context (schema generation) no team is offered: fail closed.
        self.viewer: Viewer = self.context.get("viewer", NOBODY)
        self.fields["team"].queryset = team_visible(viewer=self.viewer)

    def validate_team(self, team):
        # A team-bound caller keeps agents inside its teams: one it moved out would vanish from its view.
        if team is None and not self.viewer.unrestricted:
            raise serializers.ValidationError(_("Choose one of your teams."))
        return team

    def validate_skills(self, value):
        skill_ids = [item["skill"].pk for item in value]
        if len(skill_ids) != len(set(skill_ids)):
            raise serializers.ValidationError(_("Each skill may be listed only once."))
        return [(item["skill"], item["level"]) for item in value]


class AgentCreateInputSerializer(_AgentInputBase):
    username = StrictCharField(max_length=150, validators=[UnicodeUsernameValidator()])

    field_order = ["username", "name", "email", "team", "capacity", "skills"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].required = not self.viewer.unrestricted


class AgentUpdateInputSerializer(_AgentInputBase):
    """Context: ``viewer``, and ``agent`` (the one changed) and ``user`` (who asks) for the e-mail rule."""

    is_active = serializers.BooleanField()
    current_password = serializers.CharField(
        write_only=True,
        trim_whitespace=False,
        max_length=4096,
        help_text="your password: needed to change your own e-mail address (the old address is told either way)",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Every field optional, rather than partial=True: DRF would pass "partial" down to each skill item
        # too and accept {"level": 3} without its skill.
        for field in self.fields.values():
            field.required = False

    def validate(self, attrs):
        """Changing one's own address needs one's password: a borrowed session must not redirect password resets."""
        password = attrs.pop("current_password", None)
        agent, user = self.context.get("agent"), self.context.get("user")
        changes_own_email = (
            "email" in attrs
            and agent is not None
            and getattr(user, "pk", None) is not None
            and agent.user_id == user.pk
            and attrs["email"].strip().lower() != agent.user.email.lower()
        )
        if changes_own_email and not (password and user.check_password(password)):
            raise serializers.ValidationError(
                {"current_password": [_("Give your current password to change your own e-mail address.")]}
            )
        return attrs


class AgentSkillOutputSerializer(serializers.Serializer):
    skill = serializers.IntegerField(source="skill_id")
    name = serializers.CharField(source="skill.name")
    level = serializers.IntegerField()


class AgentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField(source="user.username")
    name = serializers.CharField()
    email = serializers.CharField(source="user.email")
    team = serializers.IntegerField(source="team_id", allow_null=True)
    capacity = CapacityField()
    skills = AgentSkillOutputSerializer(source="agent_skills", many=True)
    status = serializers.ChoiceField(choices=AgentStatus.choices)
    status_changed_at = serializers.DateTimeField(allow_null=True)
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class AgentStatusInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """The status to move to, and optionally why (kept in the status log)."""

    status = serializers.ChoiceField(choices=AgentStatus.choices)
    reason = StrictCharField(max_length=200, required=False, allow_blank=True)


class AgentStatusLogOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    previous_status = serializers.CharField(help_text="the status before this change")
    status = serializers.ChoiceField(choices=AgentStatus.choices)
    changed_at = serializers.DateTimeField()
    actor = serializers.IntegerField(source="actor_id", allow_null=True, help_text="user id of who made the change")
    reason = serializers.CharField()


# --- training ------------------------------------------------------------------------------------


class TrainingRecordOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    course = serializers.IntegerField(source="course_id")
    course_title = serializers.CharField(source="course.title")
    skill = serializers.IntegerField(source="course.skill_id", allow_null=True, help_text="skill the course certifies")
    status = serializers.ChoiceField(choices=TrainingStatus.choices)
    score = serializers.IntegerField(allow_null=True)
    assigned_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True, help_text="empty for a pass that never expires")


# --- breaks --------------------------------------------------------------------------------------


class BreakCreateInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """A break request. An agent asks for themselves (``agent`` left out); a supervisor may plan one for an
    agent of their teams, which is approved at once (scheduled when ``scheduled_for`` is given)."""

    break_type = serializers.ChoiceField(choices=BreakKind.choices)
    agent = serializers.IntegerField(min_value=1, required=False, help_text="agent id; default: yourself")
    minutes = serializers.IntegerField(
        min_value=1, max_value=MAX_BREAK_MINUTES, required=False, help_text="default: the break type's usual length"
    )
    scheduled_for = serializers.DateTimeField(required=False, allow_null=True)
    reason = StrictCharField(max_length=200, required=False, allow_blank=True)


class BreakApproveInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    scheduled_for = serializers.DateTimeField(required=False, allow_null=True, help_text="approve for this time")


class BreakDenyInputSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    reason = StrictCharField(max_length=200, required=False, allow_blank=True)


class BreakOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    agent = serializers.IntegerField(source="agent_id")
    agent_name = serializers.CharField(source="agent.name")
    break_type = serializers.ChoiceField(source="break_type.code", choices=BreakKind.choices)
    status = serializers.ChoiceField(choices=BreakStatus.choices)
    minutes = serializers.IntegerField()
    reason = serializers.CharField()
    requested_at = serializers.DateTimeField()
    requested_by = serializers.IntegerField(source="requested_by_id", allow_null=True, help_text="user id")
    approved_by = serializers.IntegerField(source="approved_by_id", allow_null=True, help_text="user id")
    scheduled_for = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
