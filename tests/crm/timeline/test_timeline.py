from datetime import timedelta

import pytest
from django.utils import timezone

from agents.access import viewer_for
from contacts.models import Note
from crm.choices import MessageDirection
from crm.timeline.selectors import BODY_PREVIEW_CHARS, TimelineCursor, customer_timeline
from tests.agents.factories import AdministratorFactory, AgentFactory, TeamFactory, UserFactory
from tests.contacts.factories import CustomerFactory, NoteFactory
from tests.crm.factories import (
    InteractionFactory,
    MessageFactory,
    QueueFactory,
    SurveyFactory,
    SurveyResponseFactory,
)

pytestmark = pytest.mark.django_db

EVERYONE = viewer_for(api_key=None, user=None)


@pytest.fixture
def admin_viewer():
    """An administrator's view: every team's entries (is_staff alone would see no interaction at all)."""
    return viewer_for(user=AdministratorFactory())


def note_at(customer, at, **kwargs):
    note = NoteFactory(customer=customer, **kwargs)
    Note.objects.filter(pk=note.pk).update(created_at=at)  # created_at is auto_now_add
    return note


@pytest.fixture
def story():
    """One customer's history, one entry a minute, each kind at least once; another customer's noise."""
    customer = CustomerFactory()
    t0 = timezone.now() - timedelta(hours=1)
    at = lambda minutes: t0 + timedelta(minutes=minutes)  # noqa: E731
    interaction = InteractionFactory(customer=customer, created_at=at(0), subject="Broken router")
    inbound = MessageFactory(interaction=interaction, created_at=at(1), body="It is broken")
    note = note_at(customer, at(2), body="Called twice")
    internal = MessageFactory(
        interaction=interaction, created_at=at(3), direction=MessageDirection.INTERNAL, body="VIP"
    )
    answer = SurveyResponseFactory(survey=SurveyFactory(interaction=interaction), answered_at=at(4), score=5)
    other = InteractionFactory(created_at=at(5))
    MessageFactory(interaction=other, created_at=at(5))
    return customer, [answer, internal, note, inbound, interaction]


def test_timeline_is_newest_first_across_kinds(story, admin_viewer):
    customer, expected = story

    entries = customer_timeline(customer=customer, viewer=admin_viewer)

    assert [(e.kind, e.id) for e in entries] == [
        ("survey_response", expected[0].pk),
        ("message", expected[1].pk),
        ("note", expected[2].pk),
        ("message", expected[3].pk),
        ("interaction", expected[4].pk),
    ]


def test_entries_carry_their_interaction_and_details(story, admin_viewer):
    customer, (answer, internal, note, inbound, interaction) = story

    by_kind = {(e.kind, e.id): e for e in customer_timeline(customer=customer, viewer=admin_viewer)}

    first = by_kind[("interaction", interaction.pk)]
    assert (first.title, first.channel, first.status, first.interaction_id) == (
        "Broken router",
        "chat",
        "queued",
        interaction.pk,
    )
    marked = by_kind[("message", internal.pk)]
    assert (marked.direction, marked.body, marked.interaction_id) == ("internal", "VIP", interaction.pk)
    survey = by_kind[("survey_response", answer.pk)]
    assert (survey.score, survey.title, survey.interaction_id) == (5, "csat", interaction.pk)
    assert by_kind[("note", note.pk)].interaction_id is None


def test_long_bodies_are_cut(admin_viewer):
    message = MessageFactory(body="x" * 5000)

    (entry, _) = customer_timeline(customer=message.interaction.customer, viewer=admin_viewer)

    assert entry.body == "x" * BODY_PREVIEW_CHARS


@pytest.mark.parametrize("limit", [1, 3, 50])
def test_timeline_is_one_query_whatever_the_page_size(story, admin_viewer, django_assert_num_queries, limit):
    customer, _ = story

    with django_assert_num_queries(1):
        customer_timeline(customer=customer, viewer=admin_viewer, limit=limit)


def test_paging_returns_every_entry_exactly_once_even_with_equal_timestamps(admin_viewer):
    customer = CustomerFactory()
    same = timezone.now() - timedelta(minutes=5)
    interactions = [InteractionFactory(customer=customer, created_at=same) for _ in range(3)]
    for interaction in interactions:
        MessageFactory(interaction=interaction, created_at=same)
        MessageFactory(interaction=interaction, created_at=same + timedelta(seconds=1))
    for _ in range(3):
        note_at(customer, same)
    everything = customer_timeline(customer=customer, viewer=admin_viewer, limit=100)

    seen, before = [], None
    while True:
        page = customer_timeline(customer=customer, viewer=admin_viewer, before=before, limit=2)
        seen.extend(page)
        if len(page) < 2:
            break
        before = page[-1].cursor

    assert len(everything) == 12
    assert [(e.kind, e.id) for e in seen] == [(e.kind, e.id) for e in everything]
    assert len({(e.kind, e.id) for e in seen}) == 12


def test_other_teams_interactions_and_their_messages_are_left_out():
    team_a, team_b = TeamFactory(), TeamFactory()
    customer = CustomerFactory()
    mine = InteractionFactory(customer=customer, queue=QueueFactory(team=team_a))
    theirs = InteractionFactory(customer=customer, queue=QueueFactory(team=team_b))
    MessageFactory(interaction=mine)
    hidden = MessageFactory(interaction=theirs)
    SurveyResponseFactory(survey=SurveyFactory(interaction=theirs))
    note = NoteFactory(customer=customer)
    supervisor = UserFactory()
    team_a.supervisors.add(supervisor)

    entries = customer_timeline(customer=customer, viewer=viewer_for(user=supervisor))

    ids = {(e.kind, e.id) for e in entries}
    assert ("interaction", mine.pk) in ids and ("note", note.pk) in ids
    assert ("interaction", theirs.pk) not in ids and ("message", hidden.pk) not in ids
    assert {e.interaction_id for e in entries} <= {mine.pk, None}


def test_an_agent_sees_their_own_work_and_not_a_colleagues():
    agent, colleague = AgentFactory(), AgentFactory()
    colleague.team = agent.team
    colleague.save()
    customer = CustomerFactory()
    own = InteractionFactory(customer=customer, status="active", agent=agent)
    other = InteractionFactory(customer=customer, status="active", agent=colleague)

    entries = customer_timeline(customer=customer, viewer=viewer_for(user=agent.user))

    assert {e.id for e in entries if e.kind == "interaction"} == {own.pk}
    assert other.pk not in {e.interaction_id for e in entries}


def test_an_anonymous_viewer_sees_only_notes(story):
    customer, _ = story

    assert {e.kind for e in customer_timeline(customer=customer, viewer=EVERYONE)} == {"note"}


def test_a_staff_user_who_supervises_nothing_sees_only_notes(story):
    customer, _ = story
    staff = viewer_for(user=UserFactory(is_staff=True))

    assert {e.kind for e in customer_timeline(customer=customer, viewer=staff)} == {"note"}


def test_cursor_round_trips_and_refuses_garbage():
    cursor = TimelineCursor(at=timezone.now(), kind="message", id=42)

    assert TimelineCursor.decode(cursor.encode()) == cursor
    for bad in ["", "!!!", "bm90IGpzb24", cursor.encode()[:-3]]:
        with pytest.raises(ValueError):
            TimelineCursor.decode(bad)
