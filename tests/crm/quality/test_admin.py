"""Quality reviews in the admin as a Supervisor: sampling their teams' work and scoring it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.choices import InteractionStatus, ReviewStatus
from crm.quality.models import Review, Scorecard, ScorecardCriterion
from tests.agents.factories import AgentFactory, TeamFactory, UserFactory
from tests.crm.factories import interaction_in_status
from tests.crm.groups import default_groups

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    default_groups()
    mine, theirs = TeamFactory(), TeamFactory()
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name="Supervisor"))
    mine.supervisors.add(user)
    client = Client()
    client.force_login(user)
    card = Scorecard.objects.create(name="Admin card")
    greeting = ScorecardCriterion.objects.create(scorecard=card, name="Greeting", weight=1, position=0)
    accuracy = ScorecardCriterion.objects.create(scorecard=card, name="Accuracy", weight=3, position=1)
    own_agent, other_agent = AgentFactory(team=mine), AgentFactory(team=theirs)
    for agent in (own_agent, other_agent):
        for _ in range(2):
            interaction_in_status(InteractionStatus.RESOLVED, agent=agent)
    return {"client": client, "user": user, "card": card, "criteria": (greeting, accuracy), "own": own_agent}


def _sample(world, **extra):
    now = timezone.now()
    data = {
        "scorecard": world["card"].pk,
        "start_0": (now - timedelta(hours=1)).strftime("%Y-%m-%d"),
        "start_1": (now - timedelta(hours=1)).strftime("%H:%M:%S"),
        "end_0": (now + timedelta(hours=1)).strftime("%Y-%m-%d"),
        "end_1": (now + timedelta(hours=1)).strftime("%H:%M:%S"),
        "count": "10",
        **extra,
    }
    return world["client"].post(reverse("admin:crm_review_sample"), data)


def test_supervisor_samples_only_their_teams_interactions(world):
    page = world["client"].get(reverse("admin:crm_review_sample"))
    assert page.status_code == 200

    response = _sample(world)

    assert response.status_code == 302
    assert set(Review.objects.values_list("agent_id", flat=True)) == {world["own"].pk}
    assert Review.objects.count() == 2 and {r.sampled_by for r in Review.objects.all()} == {world["user"]}


def test_sample_form_shows_field_errors(world):
    response = _sample(world, count="")
    assert response.status_code == 200
    assert "count" in response.context["form"].errors and not Review.objects.exists()


def test_supervisor_scores_a_pending_review_in_its_form(world):
    _sample(world)
    review = Review.objects.first()
    greeting, accuracy = world["criteria"]
    url = reverse("admin:crm_review_change", args=[review.pk])
    assert world["client"].get(url).status_code == 200

    response = world["client"].post(
        url, {"comment": "Good", f"criterion_{greeting.pk}": "5", f"criterion_{accuracy.pk}": "3"}
    )

    assert response.status_code == 302
    review.refresh_from_db()
    assert review.status == ReviewStatus.COMPLETED and review.reviewer == world["user"]
    assert review.total_score == Decimal("70.00")  # (1×5 + 3×3) / (4×5)


def test_another_teams_review_is_not_visible(world, admin_client):
    other = AgentFactory()
    interaction = interaction_in_status(InteractionStatus.RESOLVED, agent=other)
    review = Review.objects.create(
        interaction=interaction, agent=other, scorecard=world["card"], created_at=timezone.now()
    )
    assert world["client"].get(reverse("admin:crm_review_change", args=[review.pk])).status_code == 404
    assert admin_client.get(reverse("admin:crm_review_change", args=[review.pk])).status_code == 200
