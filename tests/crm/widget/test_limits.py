"""The widget's message limits are counted in Redis per installation: two installations on one Redis (a
benchmark beside the development server, two centers on a shared Redis) never spend each other's allowance."""

import uuid

import pytest

from crm.widget.services import WidgetRefused, widget_check_limits

from .conftest import chat_inbox

# an installation name of the test's own: the test processes beside it share the default one, and their widget
# tests clear its counters (conftest.clean_limits) whenever they start
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("own_cache_generation")]


def write(inbox, visitor: str, times: int) -> None:
    for _ in range(times):
        widget_check_limits(inbox=inbox, visitor_id=visitor, address="192.0.2.7", body="hello")


def test_one_address_is_limited_across_its_visitors(settings):
    settings.SWITCHBOARD_WIDGET_MESSAGES_PER_MINUTE_PER_ADDRESS = 3
    inbox = chat_inbox()
    write(inbox, "visitor-a", 2)
    write(inbox, "visitor-b", 1)

    with pytest.raises(WidgetRefused) as refused:
        write(inbox, "visitor-c", 1)  # a new visitor does not get round the address's limit
    assert refused.value.code == "rate_limited" and "too fast" in refused.value.message


def test_another_installations_messages_do_not_count(settings):
    settings.SWITCHBOARD_WIDGET_MESSAGES_PER_MINUTE_PER_ADDRESS = 3
    inbox = chat_inbox()
    ours = settings.SWITCHBOARD_INSTANCE
    settings.SWITCHBOARD_INSTANCE = f"other-center-{uuid.uuid4().hex[:8]}"
    write(inbox, "visitor-a", 3)  # the other installation used its whole allowance from this address
    settings.SWITCHBOARD_INSTANCE = ours

    write(inbox, "visitor-a", 3)  # this installation's is untouched
    with pytest.raises(WidgetRefused):
        write(inbox, "visitor-a", 1)
