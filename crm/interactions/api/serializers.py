"""Interactions and messages: input serializers per request, output serializers per resource."""

from functools import cached_property

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agents.models import Agent
from config.api.serializers import (
    CachedRelatedField,
    InputSerializer,
    OutputModelSerializer,
    StrictCharField,
    iso_datetime_writer,
)
from config.api.serializers import ErrorSerializer as ErrorOutputSerializer  # noqa: F401
from config.choices import Channel
from contacts.models import Customer
from contacts.services import normalize_address
from crm.choices import MessageDirection, Priority, SLAClock
from crm.routing.models import Queue
from crm.routing.selectors import interaction_target_queues, queue_default_for_channel, queue_target
from crm.sla.services.state import sla_state

from ..models import Interaction, Message
from ..selectors import interaction_assignable_agents
from ..services.intake import MAX_TAG_LENGTH, MAX_TAGS
from .channel_fields import DELIVERY_SCHEMA, INBOX_SCHEMA, InboxSummaries, message_delivery
from .priority import PriorityField

STATUS_HINT = (
    "The status cannot be patched; use the action endpoints "
    "(accept, hold, resume, wrap-up, resolve, close, abandon, reopen, assign, transfer)."
)


def _narrow(serializer, field_name: str, selector) -> None:
    """Limit a related field to what the request's viewer may name (no viewer, e.g. schema generation: nothing)."""
    viewer = serializer.context.get("viewer")
    if viewer is not None:
        serializer.fields[field_name].queryset = selector(viewer=viewer)


# --- output ---------------------------------------------------------------------------------------------


class SLARemainingSerializer(serializers.Serializer):
    first_response = serializers.IntegerField(allow_null=True)
    next_response = serializers.IntegerField(allow_null=True)
    resolution = serializers.IntegerField(allow_null=True)


class SLAOutputSerializer(serializers.Serializer):
    """Where the interaction stands against its SLA clocks."""

    first_response_due_at = serializers.DateTimeField(allow_null=True)
    next_response_due_at = serializers.DateTimeField(
        allow_null=True, help_text="set while a customer's reply awaits an answer"
    )
    resolution_due_at = serializers.DateTimeField(allow_null=True)
    remaining_seconds = SLARemainingSerializer(
        help_text="per clock: seconds until due (negative once late); null when stopped or without a target; "
        "while paused, what was left when the pause began"
    )
    breached = serializers.ListField(
        child=serializers.ChoiceField(choices=SLAClock.choices), help_text="the clocks past their due time"
    )
    paused = serializers.BooleanField(help_text="the clocks are paused (on hold, when the policy says so)")


class InteractionOutputSerializer(OutputModelSerializer):
    priority = PriorityField(read_only=True)
    inbox = serializers.SerializerMethodField()
    sla = serializers.SerializerMethodField()

    class Meta:
        model = Interaction
        fields = [
            "id",
            "status",
            "channel",
            "inbox",
            "queue",
            "customer",
            "agent",
            "subject",
            "priority",
            "external_id",
            "tags",
            "category",
            "disposition",
            "follow_up_of",
            "created_at",
            "queued_at",
            "assigned_at",
            "accepted_at",
            "first_response_at",
            "resolved_at",
            "closed_at",
            "abandoned_at",
            "updated_at",
            "first_response_due_at",
            "next_response_due_at",
            "resolution_due_at",
            "talk_seconds",
            "hold_seconds",
            "wrap_up_seconds",
            "sla",
        ]
        read_only_fields = fields

    @extend_schema_field(INBOX_SCHEMA)
    def get_inbox(self, interaction: Interaction) -> dict | None:
        return self._inboxes.of(interaction)

    @cached_property
    def _inboxes(self) -> InboxSummaries:
        return InboxSummaries()

    @extend_schema_field(SLAOutputSerializer)
    def get_sla(self, interaction: Interaction) -> dict:
        # one "now" per response, so every row of a page is judged at the same moment
        # written out, not dataclasses.asdict: that deep-copies every value (a fifth of a list page's time)
        state = sla_state(interaction=interaction, now=self.context.get("now"))
        due = {name: self._datetime(getattr(state, name)) for name in SLA_DUE_FIELDS}
        return {**due, "remaining_seconds": dict(state.remaining_seconds), "breached": list(state.breached),
                "paused": state.paused}  # fmt: skip

    def to_representation(self, instance: Interaction) -> dict:
        """The fields above, written out directly: the hot path of the list (50 rows a page) and of create.

        DRF's generic path builds the ModelSerializer's fields on every request and dispatches
        through them for every value; this gives the same output (names, order, types) at a fraction
        of the cost. The declared fields still describe the schema. Keep both in step: a field added
        to ``Meta.fields`` must be added here (``tests/crm`` compares the two).
        """
        i = instance
        return {
            "id": i.id,
            "status": str(i.status),
            "channel": str(i.channel),
            "inbox": self.get_inbox(i),
            "queue": i.queue_id,
            "customer": i.customer_id,
            "agent": i.agent_id,
            "subject": str(i.subject),
            "priority": int(i.priority),
            "external_id": str(i.external_id),
            "tags": [str(tag) for tag in i.tags],
            "category": str(i.category),
            "disposition": str(i.disposition),
            "follow_up_of": i.follow_up_of_id,
            **{name: self._datetime(getattr(i, name)) for name in DATETIME_FIELDS},
            "talk_seconds": int(i.talk_seconds),
            "hold_seconds": int(i.hold_seconds),
            "wrap_up_seconds": int(i.wrap_up_seconds),
            "sla": self.get_sla(i),
        }

    @cached_property
    def _datetime(self):
        # as a declared DateTimeField writes it, bound to the active time zone once per response
        return iso_datetime_writer(timezone.get_current_timezone())


class SurveyOutputSerializer(serializers.Serializer):
    """The interaction's survey: whether and when it went out, and the customer's answer once given."""

    id = serializers.IntegerField()
    kind = serializers.CharField()
    status = serializers.CharField(help_text="pending, sent, suppressed or failed")
    suppressed_reason = serializers.CharField(allow_blank=True)
    sent_at = serializers.DateTimeField(allow_null=True)
    score = serializers.IntegerField(allow_null=True)
    comment = serializers.CharField(allow_blank=True)
    answered_at = serializers.DateTimeField(allow_null=True)


class InteractionDetailOutputSerializer(InteractionOutputSerializer):
    """One interaction: the list's fields and its surveys with their answers."""

    surveys = serializers.SerializerMethodField()

    class Meta(InteractionOutputSerializer.Meta):
        fields = [*InteractionOutputSerializer.Meta.fields, "surveys"]
        read_only_fields = fields

    @extend_schema_field(SurveyOutputSerializer(many=True))
    def get_surveys(self, interaction: Interaction) -> list[dict]:
        rows = []
        for survey in interaction.surveys.select_related("response").order_by("created_at", "id"):
            response = getattr(survey, "response", None)
            rows.append(
                {
                    "id": survey.pk,
                    "kind": survey.kind,
                    "status": survey.status,
                    "suppressed_reason": survey.suppressed_reason,
                    "sent_at": survey.sent_at,
                    "score": response.score if response else None,
                    "comment": response.comment if response else "",
                    "answered_at": response.answered_at if response else None,
                }
            )
        return SurveyOutputSerializer(rows, many=True).data

    def to_representation(self, instance: Interaction) -> dict:
        return {**super().to_representation(instance), "surveys": self.get_surveys(instance)}


SLA_DUE_FIELDS = ("first_response_due_at", "next_response_due_at", "resolution_due_at")
DATETIME_FIELDS = (
    "created_at",
    "queued_at",
    "assigned_at",
    "accepted_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "abandoned_at",
    "updated_at",
    "first_response_due_at",
    "next_response_due_at",
    "resolution_due_at",
)


class AttachmentSerializer(InputSerializer):
    """Metadata of a file stored elsewhere; the API does not take file contents."""

    name = StrictCharField(max_length=255)
    content_type = StrictCharField(max_length=100, required=False, allow_blank=True)
    size = serializers.IntegerField(min_value=0, max_value=2**53, required=False)
    url = serializers.URLField(max_length=2000, required=False, allow_blank=True)


class MessageOutputSerializer(OutputModelSerializer):
    attachments = AttachmentSerializer(many=True, read_only=True)
    delivery = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = ["id", "interaction", "direction", "author", "body", "attachments", "external_id", "inbox"]
        fields += ["delivery_status", "delivery", "created_at"]
        read_only_fields = fields

    @extend_schema_field(DELIVERY_SCHEMA)
    def get_delivery(self, message: Message) -> dict | None:
        return message_delivery(message)


# --- input ----------------------------------------------------------------------------------------------


class CustomerIdentityInputSerializer(InputSerializer):
    channel = serializers.ChoiceField(
        choices=Channel.choices,
        required=False,
        help_text="the channel the address belongs to (voice and sms: a phone number); defaults to the interaction's",
    )
    address = StrictCharField(max_length=254, help_text="e-mail address, phone number or handle")
    name = StrictCharField(max_length=200, required=False, allow_blank=True)


class InteractionCreateInputSerializer(InputSerializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    # from routing's per-process cache of queues (no query); only a queue the viewer may put work into
    queue = CachedRelatedField(queryset=Queue.objects.none(), required=False, allow_null=True, fetch=queue_target)
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all(), required=False)
    customer_identity = CustomerIdentityInputSerializer(required=False)
    subject = StrictCharField(max_length=300, required=False, allow_blank=True, default="")
    body = StrictCharField(
        required=False, allow_blank=True, default="", trim_whitespace=False, help_text="the first message"
    )
    priority = PriorityField(required=False, default=Priority.NORMAL)
    external_id = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    tags = serializers.ListField(
        child=StrictCharField(max_length=MAX_TAG_LENGTH), max_length=MAX_TAGS, required=False, default=list
    )
    category = StrictCharField(max_length=100, required=False, allow_blank=True, default="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _narrow(self, "queue", interaction_target_queues)

    def validate(self, attrs):
        if ("customer" in attrs) == ("customer_identity" in attrs):
            raise serializers.ValidationError({"customer": [_("Give exactly one of customer and customer_identity.")]})
        identity = attrs.get("customer_identity")
        if identity is not None:
            try:
                normalize_address(channel=identity.get("channel") or attrs["channel"], address=identity["address"])
            except DjangoValidationError as exc:
                raise serializers.ValidationError({"customer_identity": {"address": exc.messages}}) from None
        viewer = self.context["viewer"]
        if not viewer.unrestricted:
            # a team-bound caller may only create work its team will see
            queue = attrs.get("queue") or queue_default_for_channel(channel=attrs["channel"])
            if queue is None or queue.team_id not in viewer.team_ids:
                message = _("Name one of your team's queues: the default queue for %(value)s is not.")
                raise serializers.ValidationError({"queue": [message % {"value": attrs["channel"]}]})
            attrs["queue"] = queue
        return attrs


class InteractionUpdateInputSerializer(InputSerializer):
    unknown_field_messages = {"status": STATUS_HINT, "agent": "Use the assign action to give work to an agent."}

    subject = StrictCharField(max_length=300, required=False, allow_blank=True)
    priority = PriorityField(required=False)
    tags = serializers.ListField(child=StrictCharField(max_length=MAX_TAG_LENGTH), max_length=MAX_TAGS, required=False)
    category = StrictCharField(max_length=100, required=False, allow_blank=True)


class AgentInputSerializer(InputSerializer):
    """Names an agent the caller may see (its team's, or any for the unrestricted)."""

    agent = serializers.PrimaryKeyRelatedField(queryset=Agent.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _narrow(self, "agent", interaction_assignable_agents)


class AcceptInputSerializer(AgentInputSerializer):
    agent = serializers.PrimaryKeyRelatedField(
        queryset=Agent.objects.none(),
        required=False,
        help_text="the accepting agent; defaults to the signed-in user's agent (API keys must name it)",
    )


class TransferInputSerializer(InputSerializer):
    """Exactly one of ``queue`` and ``agent``, each narrowed to what the caller may name (its team's, or any)."""

    queue = serializers.PrimaryKeyRelatedField(
        queryset=Queue.objects.none(), required=False, help_text="back to this queue, waiting for an agent"
    )
    agent = serializers.PrimaryKeyRelatedField(
        queryset=Agent.objects.none(), required=False, help_text="to this agent (available, with room on the channel)"
    )
    note = StrictCharField(
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        help_text="why; an internal note when a signed-in user transfers, else kept in the event log",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _narrow(self, "queue", interaction_target_queues)
        _narrow(self, "agent", interaction_assignable_agents)

    def validate(self, attrs):
        if ("queue" in attrs) == ("agent" in attrs):
            raise serializers.ValidationError({"queue": [_("Give exactly one of queue and agent.")]})
        return attrs


class ResolveInputSerializer(InputSerializer):
    disposition = StrictCharField(max_length=100, required=False, allow_blank=True, default="")
    category = StrictCharField(max_length=100, required=False, allow_blank=True, default="")


class EmptyInputSerializer(InputSerializer):
    """Actions without parameters still refuse unknown ones."""


class MessageCreateInputSerializer(InputSerializer):
    direction = serializers.ChoiceField(choices=MessageDirection.choices)
    body = StrictCharField(trim_whitespace=False)
    attachments = serializers.ListField(child=AttachmentSerializer(), max_length=20, required=False, default=list)
    external_id = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
