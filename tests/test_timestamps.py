"""``config.timestamps``: timestamps read by psycopg's own loader, exactly as Django's wrapper read them; the API's
UTC writer; a list filter set's per-request filters."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from config.api.serializers import iso_datetime_writer
from config.timestamps import UtcTimestamptzLoader, install
from crm.interactions.api.filters import InteractionFilterSet
from crm.interactions.models import Interaction
from tests.crm.factories import InteractionFactory


@pytest.mark.django_db
def test_timestamps_come_back_aware_in_utc_to_the_microsecond_through_psycopgs_loader():
    moment = datetime.datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=ZoneInfo("Europe/Berlin"))  # +01:00
    interaction = InteractionFactory()
    Interaction.objects.filter(pk=interaction.pk).update(created_at=moment, resolved_at=None)

    row = Interaction.objects.filter(pk=interaction.pk).values("created_at", "resolved_at").get()

    assert row["created_at"] == moment
    assert row["created_at"].tzinfo is datetime.UTC
    assert row["created_at"].isoformat() == "2026-03-29T00:30:15.123456+00:00"
    assert row["resolved_at"] is None
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::timestamptz, '-infinity'::timestamptz < now()", [moment])
        assert cursor.fetchone() == (moment, True)
        # the connection's loader: psycopg's own (Django's wrapper is no longer in the way)
        loader = cursor.cursor.adapters.get_loader(1184, 0)
        assert loader is UtcTimestamptzLoader
        assert type(loader(1184, cursor.cursor)).__name__ == "TimestamptzLoader"


def test_nothing_is_changed_without_time_zone_support(settings):
    settings.USE_TZ = False
    assert install() is False


def test_the_writer_answers_z_for_utc_and_the_offset_elsewhere():
    at = datetime.datetime(2026, 12, 5, 2, 0, 0, 500, tzinfo=datetime.UTC)
    whole_second = at.replace(microsecond=0)
    assert iso_datetime_writer(ZoneInfo("UTC"))(at) == "2026-12-05T02:00:00.000500Z"
    assert iso_datetime_writer(datetime.UTC)(whole_second) == "2026-12-05T02:00:00Z"
    assert iso_datetime_writer(ZoneInfo("Europe/Madrid"))(at) == "2026-12-05T03:00:00.000500+01:00"
    # a value in another zone is converted to UTC, not written with its own offset
    madrid = at.astimezone(ZoneInfo("Europe/Madrid"))
    assert iso_datetime_writer(ZoneInfo("UTC"))(madrid) == "2026-12-05T02:00:00.000500Z"
    assert iso_datetime_writer(ZoneInfo("UTC"))(None) is None
    assert iso_datetime_writer(timezone.get_current_timezone())(at).endswith("Z")  # the settings' default zone


@pytest.mark.django_db
def test_each_request_gets_filters_of_its_own_and_a_bad_value_is_still_refused():
    first = InteractionFilterSet(data={"status": "queued"}, queryset=Interaction.objects.all())
    second = InteractionFilterSet(data={"status": "bogus"}, queryset=Interaction.objects.all())

    assert first.filters["status"] is not second.filters["status"]
    assert first.filters["status"].parent is first and second.filters["status"].parent is second
    assert InteractionFilterSet.base_filters["status"] not in (first.filters["status"], second.filters["status"])
    assert first.is_valid() and first.form.cleaned_data["status"] == ["queued"]
    assert not second.is_valid() and "status" in second.errors
