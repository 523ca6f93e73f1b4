"""The wallboard's split by inbox: each inbox's waiting, offered and active work, in the snapshot (scoped to the
viewer's teams) and kept current by ``inbox.stats`` events that follow the queue figures."""

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from agents.access import Viewer
from crm.interactions import services as lifecycle
from crm.live.selectors import live_wallboard_snapshot
from tests.agents.factories import AgentFactory, TeamFactory
from tests.contacts.factories import CustomerFactory
from tests.crm.factories import QueueFactory
from tests.crm.inboxes.factories import InboxFactory

pytestmark = pytest.mark.django_db


def _work(queue, inbox):
    return lifecycle.interaction_create_inbound(channel="email", customer=CustomerFactory(), queue=queue, inbox=inbox)


def test_the_snapshot_splits_open_work_by_inbox_within_the_viewers_teams():
    team, other = TeamFactory(), TeamFactory()
    queue = QueueFactory(team=team, channels=["email"])
    sales, support = InboxFactory(name="Sales", queue=queue), InboxFactory(name="Support", queue=queue)
    foreign = InboxFactory(name="Elsewhere", queue=QueueFactory(team=other, channels=["email"]))
    _work(queue, sales)
    _work(queue, sales)
    lifecycle.interaction_assign(interaction=_work(queue, support), agent=AgentFactory(team=team))

    mine = live_wallboard_snapshot(viewer=Viewer(unrestricted=False, team_ids=frozenset({team.pk}), is_supervisor=True))
    everything = live_wallboard_snapshot(viewer=Viewer(unrestricted=True, team_ids=frozenset()))

    figures = {row["name"]: (row["waiting"], row["assigned"], row["active"]) for row in mine["inboxes"]}
    assert figures == {"Sales": (2, 0, 0), "Support": (0, 1, 0)}
    assert foreign.pk in {row["id"] for row in everything["inboxes"]}
    assert all(row["oldest_waiting_seconds"] is not None for row in mine["inboxes"] if row["waiting"])


def test_a_change_is_followed_by_its_inboxes_figures_on_the_wallboards(django_capture_on_commit_callbacks):
    team = TeamFactory()
    queue = QueueFactory(team=team, channels=["email"])
    sales = InboxFactory(name="Sales", queue=queue)
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(f"team.{team.pk}", channel)

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        _work(queue, sales)

    async def until_quiet():
        got = []
        while True:
            try:
                got.append(await asyncio.wait_for(layer.receive(channel), timeout=1))
            except TimeoutError:
                return got

    received = async_to_sync(until_quiet)()
    (figures,) = [m["data"] for m in received if m["event"] == "inbox.stats"]
    assert (figures["id"], figures["name"], figures["waiting"], figures["team"]) == (sales.pk, "Sales", 1, team.pk)
    assert {m["event"] for m in received} == {"interaction.queued", "queue.stats", "inbox.stats"}
