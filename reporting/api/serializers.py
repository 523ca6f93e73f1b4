"""Reports API: query parameters in, report rows out."""

import functools
import zoneinfo
from datetime import datetime, time, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api.filters import MAX_ID
from config.api.serializers import InputSerializer
from config.choices import Channel

from ..selectors import GROUP_BY

MAX_RANGE_DAYS = 366
MAX_HOURLY_DAYS = 31
DEFAULT_RANGE_DAYS = 7
FORMATS = ("json", "csv")


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@extend_schema_field(
    {
        "type": "string",
        "description": "A date (`2026-11-30`, midnight in `tz`) or a date-time (`2026-11-30T08:00:00+01:00`; "
        "without an offset it is read in `tz`).",
        "example": "2026-11-30",
    }
)
class DateOrDateTimeField(serializers.Field):
    """A date or a date-time; naive values are placed in the request's time zone by the serializer."""

    default_error_messages = {"invalid": "Give a date (YYYY-MM-DD) or an ISO 8601 date-time."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        text = data.strip()
        try:
            parsed = parse_datetime(text) or parse_date(text)
        except ValueError:
            parsed = None
        if parsed is None:
            self.fail("invalid")
        return parsed

    def to_representation(self, value):
        return value.isoformat()


class RangeQuerySerializer(InputSerializer):
    """The half-open range ``[from, to)`` of a report, in a time zone. Defaults: the last 7 days up to now."""

    from_ = DateOrDateTimeField(required=False, help_text="Start, inclusive (default: 7 days before `to`).")
    to = DateOrDateTimeField(required=False, help_text="End, exclusive (default: now).")
    tz = serializers.CharField(
        required=False,
        max_length=64,
        help_text="IANA time zone for dates without an offset and for grouping by day or hour (default: the "
        "site's TIME_ZONE).",
    )
    format = serializers.ChoiceField(choices=FORMATS, required=False, help_text="`csv` for a CSV download.")

    max_range_days = MAX_RANGE_DAYS

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")  # "from" is a Python keyword
        return fields

    def validate_tz(self, value):
        if value not in _zone_names():
            raise serializers.ValidationError(_("Unknown time zone; give an IANA name such as Europe/Berlin."))
        return value

    def _aware(self, value, zone, field: str) -> datetime:
        try:
            if isinstance(value, datetime):
                moment = value if timezone.is_aware(value) else value.replace(tzinfo=zone)
            else:
                moment = datetime.combine(value, time.min, tzinfo=zone)
            # PostgreSQL refuses offsets beyond ±15:59 and years beyond Python's: normalise now, fail as a 400
            return moment.astimezone(zoneinfo.ZoneInfo("UTC"))
        except (OverflowError, ValueError):
            raise serializers.ValidationError({field: [_("Out of the supported date range.")]}) from None

    def validate(self, attrs):
        tz = attrs.get("tz") or settings.TIME_ZONE
        zone = zoneinfo.ZoneInfo(tz)
        end = self._aware(attrs["to"], zone, "to") if "to" in attrs else timezone.now()
        if "from" in attrs:
            start = self._aware(attrs["from"], zone, "from")
        else:
            try:
                start = end - timedelta(days=DEFAULT_RANGE_DAYS)
            except OverflowError:
                raise serializers.ValidationError({"to": [_("Out of the supported date range.")]}) from None
        if start >= end:
            raise serializers.ValidationError({"to": [_("Must be later than from.")]})
        if end - start > timedelta(days=self.max_range_days):
            raise serializers.ValidationError(
                {"to": [_("A report spans at most %(max_range_days)s days.") % {"max_range_days": self.max_range_days}]}
            )
        return {**attrs, "start": start, "end": end, "tz": tz}


class FilterQueryMixin(serializers.Serializer):
    queue = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID, help_text="Queue id.")
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    team = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Team id (the team owning the queue)."
    )
    agent = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID, help_text="Agent id.")
    inbox = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Inbox id (the address, number or site it came in by)."
    )


class KpiQuerySerializer(FilterQueryMixin, RangeQuerySerializer):
    group_by = serializers.ChoiceField(
        choices=GROUP_BY, required=False, default="total", help_text="One row per group; `total` gives one row."
    )

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if attrs.get("group_by") == "hour" and attrs["end"] - attrs["start"] > timedelta(days=MAX_HOURLY_DAYS):
            raise serializers.ValidationError(
                {
                    "group_by": [
                        _("Hourly figures cover at most %(MAX_HOURLY_DAYS)s days; narrow the range.")
                        % {"MAX_HOURLY_DAYS": MAX_HOURLY_DAYS}
                    ]
                }
            )
        return attrs


class CategoryQuerySerializer(FilterQueryMixin, RangeQuerySerializer):
    pass


class OccupancyQuerySerializer(RangeQuerySerializer):
    team = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID, help_text="Team id.")
    max_range_days = 31  # the status log is read span by span: keep a request bounded


def _rate(help_text: str):
    return serializers.FloatField(allow_null=True, min_value=-1, max_value=1, help_text=help_text)


def _seconds(help_text: str):
    return serializers.FloatField(allow_null=True, min_value=0, help_text=help_text)


class KpiRowSerializer(serializers.Serializer):
    group = serializers.CharField(
        allow_null=True,
        help_text="The group's key: a date, an hour (ISO, in tz), a queue/agent/team id or a channel; null for "
        "the total and for interactions without that attribute.",
    )
    label = serializers.CharField(help_text="A display name for the group.")
    offered = serializers.IntegerField(allow_null=True, help_text="Interactions created in the range.")
    handled = serializers.IntegerField(allow_null=True, help_text="Of those, answered by an agent.")
    abandoned = serializers.IntegerField(allow_null=True, help_text="Left before an agent answered.")
    abandonment_rate = _rate("abandoned / offered")
    service_level = _rate("answered within the queue's threshold / (handled + abandoned)")
    asa_seconds = _seconds("average speed of answer (queued → accepted) of handled contacts")
    aht_seconds = _seconds("average talk + hold + wrap-up of handled, resolved contacts")
    fcr = _rate("resolved with no repeat contact (same customer and category) within SWITCHBOARD_FCR_DAYS / resolved")
    transfer_rate = _rate("handled contacts transferred at least once / handled")
    sla_breach_rate = _rate("contacts past a first-response or resolution due time / contacts with a due time")
    first_response_seconds = _seconds("average time to the first response on asynchronous channels")
    csat = _rate("CSAT answers of 4–5 / CSAT answers")
    nps = _rate("(NPS answers 9–10 − answers 0–6) / NPS answers, −1..1")
    ces = serializers.FloatField(allow_null=True, help_text="average CES answer (1–7)")
    csat_responses = serializers.IntegerField(allow_null=True)
    nps_responses = serializers.IntegerField(allow_null=True)
    ces_responses = serializers.IntegerField(allow_null=True)


class ReportMetaMixin(serializers.Serializer):
    from_ = serializers.DateTimeField(help_text="Start of the range, inclusive.")
    to = serializers.DateTimeField(help_text="End of the range, exclusive.")
    tz = serializers.CharField()

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class KpiReportSerializer(ReportMetaMixin):
    group_by = serializers.ChoiceField(choices=GROUP_BY)
    rows = KpiRowSerializer(many=True)


class CategoryRowSerializer(serializers.Serializer):
    category = serializers.CharField(allow_blank=True)
    disposition = serializers.CharField(allow_blank=True)
    contacts = serializers.IntegerField()
    resolved = serializers.IntegerField()
    fcr = _rate("resolved first time / resolved")


class CategoryReportSerializer(ReportMetaMixin):
    rows = CategoryRowSerializer(many=True)


class IvrStepSerializer(serializers.Serializer):
    step = serializers.CharField(help_text="the last IVR step (`menu:choice`) before hanging up while waiting")
    abandoned = serializers.IntegerField()


class IvrReportSerializer(ReportMetaMixin):
    calls = serializers.IntegerField(help_text="calls started in the range that have ended")
    contained = serializers.IntegerField(help_text="ended in the IVR without an agent (self-service)")
    answered = serializers.IntegerField()
    abandoned = serializers.IntegerField(help_text="hung up while waiting for an agent")
    ivr_containment = serializers.FloatField(allow_null=True, help_text="contained / calls")
    abandoned_by_step = IvrStepSerializer(many=True)


class OccupancyRowSerializer(serializers.Serializer):
    agent = serializers.IntegerField()
    name = serializers.CharField()
    handling_seconds = serializers.FloatField(help_text="busy + wrap-up")
    available_seconds = serializers.FloatField()
    logged_in_seconds = serializers.FloatField(help_text="any status but offline")
    occupancy = _rate("handling / (handling + available)")
    utilisation = _rate("handling / logged in")


class OccupancyReportSerializer(ReportMetaMixin):
    rows = OccupancyRowSerializer(many=True)
