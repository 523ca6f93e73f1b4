from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from config.errors import DomainError
from crm.choices import InteractionStatus, ReviewStatus
from crm.quality.models import Review, Scorecard, ScorecardCriterion
from crm.quality.selectors import agent_qa_scores
from crm.quality.services import SampleSpec, review_complete, review_sample
from tests.agents.factories import AgentFactory
from tests.crm.factories import QueueFactory, SurveyFactory, SurveyResponseFactory, interaction_in_status

pytestmark = pytest.mark.django_db

S = InteractionStatus
CRITERIA = [("Greeting", 10), ("Empathy", 20), ("Accuracy", 30), ("Resolution", 25), ("Compliance", 15)]


@pytest.fixture
def scorecard(db):
    card = Scorecard.objects.create(name="QA test card")
    for position, (name, weight) in enumerate(CRITERIA):
        ScorecardCriterion.objects.create(scorecard=card, name=name, weight=weight, position=position)
    return card


def _window():
    now = timezone.now()
    return now - timedelta(hours=1), now + timedelta(minutes=1)


def test_random_sample_takes_n_finished_interactions_of_the_queue_and_never_twice(scorecard):
    queue = QueueFactory(channels=["chat"])
    done = [interaction_in_status(S.RESOLVED, queue=queue) for _ in range(5)]
    interaction_in_status(S.ACTIVE, queue=queue)  # still open: not reviewable
    interaction_in_status(S.RESOLVED)  # another queue
    start, end = _window()

    first = review_sample(spec=SampleSpec(scorecard=scorecard, start=start, end=end, queue=queue, count=3))
    second = review_sample(spec=SampleSpec(scorecard=scorecard, start=start, end=end, queue=queue, count=3))

    sampled = [r.interaction_id for r in first + second]
    assert len(first) == 3 and len(second) == 2
    assert sorted(sampled) == sorted(i.pk for i in done)
    assert {r.agent_id for r in first} <= {i.agent_id for i in done}


def test_low_csat_sample_takes_all_with_csat_2_or_less(scorecard):
    low = [interaction_in_status(S.RESOLVED) for _ in range(2)]
    ok = interaction_in_status(S.RESOLVED)
    for interaction, score in [(low[0], 1), (low[1], 2), (ok, 4)]:
        SurveyResponseFactory(survey=SurveyFactory(interaction=interaction), score=score)
    start, end = _window()

    reviews = review_sample(spec=SampleSpec(scorecard=scorecard, start=start, end=end, low_csat=True))

    assert sorted(r.interaction_id for r in reviews) == sorted(i.pk for i in low)


@pytest.mark.parametrize(("count", "field"), [(None, "count"), (0, "count"), (501, "count")])
def test_sample_validation(scorecard, count, field):
    start, end = _window()
    with pytest.raises(ValidationError) as exc:
        review_sample(spec=SampleSpec(scorecard=scorecard, start=start, end=end, count=count))
    assert field in exc.value.message_dict


def test_complete_stores_weighted_total_and_qa_score_averages_per_agent(scorecard):
    agent = AgentFactory()
    interactions = [interaction_in_status(S.RESOLVED, agent=agent) for _ in range(2)]
    start, end = _window()
    reviews = review_sample(spec=SampleSpec(scorecard=scorecard, start=start, end=end, agent=agent, count=2))
    perfect = {name: 5 for name, _ in CRITERIA}
    half = {"greeting": 5, "empathy": 5, "accuracy": 0, "resolution": 0, "compliance": 5}  # names match any case

    first = review_complete(review=reviews[0], reviewer=None, scores=perfect, comment="great")
    second = review_complete(review=reviews[1], reviewer=None, scores=half)

    assert first.total_score == Decimal("100.00") and first.status == ReviewStatus.COMPLETED
    assert second.total_score == Decimal("45.00")  # (10 + 20 + 15) of 100 weight
    assert agent_qa_scores(agent_ids=[agent.pk]) == {agent.pk: (72.5, 2)}
    assert len(interactions) == 2


def test_complete_refuses_missing_unknown_or_out_of_range_scores_and_a_second_completion(scorecard):
    interaction_in_status(S.RESOLVED)
    start, end = _window()
    (review,) = review_sample(spec=SampleSpec(scorecard=scorecard, start=start, end=end, count=1))
    for scores in [{"Greeting": 5}, {**{n: 3 for n, _ in CRITERIA}, "Humour": 3}, {n: 6 for n, _ in CRITERIA}]:
        with pytest.raises(ValidationError) as exc:
            review_complete(review=review, reviewer=None, scores=scores)
        assert "scores" in exc.value.message_dict
    assert Review.objects.get().status == ReviewStatus.PENDING
    review_complete(review=review, reviewer=None, scores={n: 3 for n, _ in CRITERIA})
    with pytest.raises(DomainError):
        review_complete(review=review, reviewer=None, scores={n: 3 for n, _ in CRITERIA})
