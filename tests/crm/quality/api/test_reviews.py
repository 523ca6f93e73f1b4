"""Quality reviews over the API: agents read only their own completed reviews, supervisors their teams'."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from crm.choices import InteractionStatus
from crm.quality.models import Scorecard, ScorecardCriterion
from crm.quality.services import SampleSpec, review_complete, review_sample
from tests.agents.factories import AgentFactory, TeamFactory, UserFactory
from tests.crm.factories import interaction_in_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def session_client():
    def make(user):
        client = APIClient()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def setup(db):
    card = Scorecard.objects.create(name="API card")
    ScorecardCriterion.objects.create(scorecard=card, name="Empathy", weight=1)
    team_a, team_b = TeamFactory(), TeamFactory()
    alice, bob = AgentFactory(team=team_a), AgentFactory(team=team_b)
    for agent in (alice, bob):
        interaction_in_status(InteractionStatus.RESOLVED, agent=agent)
        interaction_in_status(InteractionStatus.RESOLVED, agent=agent)
    now = timezone.now()
    reviews = review_sample(spec=SampleSpec(scorecard=card, start=now - timedelta(hours=1), end=now, count=10))
    done = {}
    for review in reviews:
        if review.agent_id not in done:  # one completed and one pending review per agent
            done[review.agent_id] = review_complete(review=review, reviewer=None, scores={"Empathy": 4}, comment="ok")
    supervisor = UserFactory()
    team_a.supervisors.add(supervisor)
    return {"alice": alice, "bob": bob, "done": done, "supervisor": supervisor}


def _ids(client, **params):
    response = client.get("/api/v1/reviews/", params)
    assert response.status_code == 200, response.content
    return [(r["agent"], r["status"]) for r in response.json()["results"]]


def test_agent_sees_only_own_completed_reviews(session_client, setup):
    client = session_client(setup["alice"].user)
    assert _ids(client) == [(setup["alice"].pk, "completed")]
    bobs = setup["done"][setup["bob"].pk]
    assert client.get(f"/api/v1/reviews/{bobs.pk}").status_code == 404
    body = client.get(f"/api/v1/reviews/{setup['done'][setup['alice'].pk].pk}").json()
    assert body["total_score"] == 80.0 and body["scores"] == [{"criterion": "Empathy", "weight": 1, "score": 4}]


def test_supervisor_sees_their_teams_reviews_pending_included(session_client, setup):
    client = session_client(setup["supervisor"])
    assert sorted(_ids(client)) == sorted([(setup["alice"].pk, "completed"), (setup["alice"].pk, "pending")])
    assert _ids(client, status="pending") == [(setup["alice"].pk, "pending")]


def test_review_filters_reject_bad_values(session_client, setup):
    response = session_client(setup["supervisor"]).get("/api/v1/reviews/", {"status": "great"})
    assert response.status_code == 400 and "status" in response.json()


def test_reviews_are_read_only(session_client, setup):
    assert session_client(setup["supervisor"]).post("/api/v1/reviews/", {}).status_code == 405


def test_review_list_query_count_does_not_grow_with_rows(
    own_cache_generation, session_client, setup, django_assert_max_num_queries
):
    client = session_client(setup["supervisor"])
    with django_assert_max_num_queries(9):
        client.get("/api/v1/reviews/")
