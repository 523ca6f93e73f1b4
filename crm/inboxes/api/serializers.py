"""Shapes of an inbox: as written (input), as shown (settings redacted) and as created (with its inbound URL)."""

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api.serializers import InputSerializer, OutputModelSerializer, StrictCharField
from config.choices import Channel
from crm.routing.models import Queue

from ..models import Inbox, InboxState
from ..selectors import inbox_inbound_url, inbox_redacted_settings

SETTINGS_HELP = (
    "The adapter's settings. E-mail: `address` (required, the support address), `imap_url` "
    "(`imaps://user:password@host:993/INBOX`, to import from), `smtp_url` (`smtp://user:password@host:587"
    "?starttls=1`; without it the configured mailer sends), `message_id_domain`, `max_attachment_bytes`, "
    "`max_total_bytes`. Secrets are shown redacted afterwards; sending a redacted value back keeps the stored "
    "secret, `null` removes a setting. Errors name `settings.<key>`."
)


class InboxInputSerializer(InputSerializer):
    """An inbox as written. On PATCH every field is optional; ``channel`` and ``adapter`` cannot change."""

    name = StrictCharField(max_length=100)
    channel = serializers.ChoiceField(choices=Channel.choices)
    adapter = StrictCharField(
        max_length=32, required=False, help_text="the provider adapter (`email`, `bridge`, …); default: the channel's"
    )
    queue = serializers.PrimaryKeyRelatedField(
        queryset=Queue.objects.all(), help_text="where new work from this inbox waits; must serve the channel"
    )
    display_name = StrictCharField(
        max_length=100, allow_blank=True, required=False, help_text="the sender name customers see"
    )
    settings = serializers.DictField(help_text=SETTINGS_HELP)
    is_active = serializers.BooleanField(required=False, help_text="false: nothing is imported or sent through it")


class InboxOutputSerializer(OutputModelSerializer):
    queue = serializers.IntegerField(source="queue_id")
    settings = serializers.SerializerMethodField(help_text="secrets redacted (a password shows as `***`)")
    state = serializers.ChoiceField(
        choices=InboxState.choices, help_text="`reauthorise`: the provider refused its credentials; fix the settings"
    )
    public_key = serializers.SerializerMethodField(
        help_text="chat inboxes: the widget's public id (in its script URL; not a secret); null otherwise"
    )
    embed_snippet = serializers.SerializerMethodField(
        help_text="chat inboxes: the `<script>` tag to paste into the allowed sites' pages; null otherwise"
    )

    class Meta:
        model = Inbox
        fields = [
            "id",
            "name",
            "channel",
            "adapter",
            "queue",
            "display_name",
            "settings",
            "is_active",
            "state",
            "state_detail",
            "public_key",
            "embed_snippet",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_public_key(self, inbox: Inbox) -> str | None:
        return (inbox.settings or {}).get("public_key") if inbox.channel == "chat" else None

    @extend_schema_field(OpenApiTypes.STR)
    def get_embed_snippet(self, inbox: Inbox) -> str | None:
        key = self.get_public_key(inbox)
        if not key:
            return None
        return f'<script src="{settings.SWITCHBOARD_PUBLIC_URL.rstrip("/")}/widget/{key}.js" async></script>'

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_settings(self, inbox: Inbox) -> dict:
        return inbox_redacted_settings(inbox)


class InboxCreatedOutputSerializer(InboxOutputSerializer):
    """As created: the only answer that carries the inbound URL (it holds the inbox's secret token)."""

    inbound_url = serializers.SerializerMethodField(
        help_text="where the provider (an MTA, a mail service) POSTs this inbox's inbound messages; shown once"
    )

    identity_secret = serializers.SerializerMethodField(
        help_text="chat inboxes: the key the site's server signs visitor identities with (HMAC-SHA256 of the "
        "e-mail); shown once, redacted in `settings` afterwards; null otherwise"
    )

    class Meta(InboxOutputSerializer.Meta):
        fields = [*InboxOutputSerializer.Meta.fields, "inbound_url", "identity_secret"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_identity_secret(self, inbox: Inbox) -> str | None:
        return (inbox.settings or {}).get("secret") if inbox.channel == "chat" else None

    @extend_schema_field(OpenApiTypes.URI)
    def get_inbound_url(self, inbox: Inbox) -> str:
        return inbox_inbound_url(inbox)
