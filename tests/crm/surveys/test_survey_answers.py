"""The public answer page /s/<token>/ and its API twin POST /api/v1/surveys/{token}/responses."""

import time

import pytest
from django.core import signing
from django.core.cache import cache
from django.urls import reverse

from crm.choices import SurveyKind, SurveyStatus
from crm.surveys.models import SurveyResponse
from crm.surveys.services import TOKEN_SALT, survey_token
from crm.surveys.signals import survey_answered
from crm.webhooks.models import WebhookDelivery
from tests.crm.factories import SurveyFactory, WebhookFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey():
    return SurveyFactory(kind=SurveyKind.CSAT)


def page(survey_or_token) -> str:
    token = survey_or_token if isinstance(survey_or_token, str) else survey_token(survey=survey_or_token)
    return reverse("survey-answer", kwargs={"token": token})


def api(token: str) -> str:
    return reverse("v1:crm-api:survey-responses", kwargs={"token": token})


def old_token(survey, days: int) -> str:
    class Then(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(time.time()) - days * 86400)

    return Then(salt=TOKEN_SALT).sign(survey.token)


# --- the page ---------------------------------------------------------------------------------------------------


def test_the_page_is_a_plain_form_for_the_kinds_range(client, survey):
    response = client.get(page(survey))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<script" not in html.lower()
    assert 'name="viewport"' in html
    assert [f'value="{n}"' in html for n in range(1, 6)] == [True] * 5
    assert 'value="0"' not in html and 'value="6"' not in html
    assert 'name="comment"' in html


def test_answering_on_the_page_stores_the_score_once(client, survey):
    response = client.post(page(survey), {"score": "4", "comment": "Quick and kind"})
    assert response.status_code == 200 and "Thank you" in response.content.decode()
    answer = SurveyResponse.objects.get(survey=survey)
    assert (answer.score, answer.comment) == (4, "Quick and kind")

    again = client.post(page(survey), {"score": "1"})
    assert again.status_code == 409 and "already been answered" in again.content.decode()
    assert SurveyResponse.objects.get(survey=survey).score == 4
    assert client.get(page(survey)).status_code == 409


@pytest.mark.parametrize("score", ["0", "6", "-1", "abc", ""])
def test_out_of_range_scores_are_refused_with_a_message(client, survey, score):
    response = client.post(page(survey), {"score": score, "comment": "kept"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "from 1 to 5" in html and "kept" in html
    assert not SurveyResponse.objects.exists()


def test_nps_takes_zero_to_ten(client):
    nps = SurveyFactory(kind=SurveyKind.NPS)
    assert client.post(page(nps), {"score": "11"}).status_code == 400
    assert client.post(page(nps), {"score": "0"}).status_code == 200
    assert SurveyResponse.objects.get(survey=nps).score == 0


def test_forged_altered_and_unsent_tokens_are_refused(client, survey):
    token = survey_token(survey=survey)
    assert client.get(page(token[:-1] + ("A" if token[-1] != "A" else "B"))).status_code == 404
    assert client.get(page(signing.TimestampSigner(salt="other").sign(survey.token))).status_code == 404
    assert client.get(page("not-a-token")).status_code == 404
    pending = SurveyFactory(status=SurveyStatus.PENDING, sent_at=None)
    assert client.post(page(pending), {"score": "5"}).status_code == 404
    assert not SurveyResponse.objects.exists()


def test_an_expired_link_says_so(client, survey, settings):
    settings.SURVEY_TOKEN_MAX_AGE_DAYS = 30
    response = client.post(page(old_token(survey, days=31)), {"score": "5"})
    assert response.status_code == 410 and "expired" in response.content.decode()
    assert client.post(page(old_token(survey, days=29)), {"score": "5"}).status_code == 200


def test_an_answer_emits_the_webhook_and_the_signal_on_commit(client, survey, django_capture_on_commit_callbacks):
    WebhookFactory(events=["survey.answered"])
    received = []

    def on_answer(sender, **kwargs):
        received.append(kwargs)

    survey_answered.connect(on_answer)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            client.post(page(survey), {"score": "5"})
    finally:
        survey_answered.disconnect(on_answer)
    assert received[0]["survey_id"] == survey.pk and received[0]["score"] == 5
    delivery = WebhookDelivery.objects.get()
    assert delivery.payload["type"] == "survey.answered"
    assert (
        delivery.payload["data"]["score"] == 5 and delivery.payload["data"]["interaction_id"] == survey.interaction_id
    )


# --- the API ----------------------------------------------------------------------------------------------------


def test_api_answer_then_a_second_answer_is_a_conflict(api_client, survey):
    token = survey_token(survey=survey)
    response = api_client.post(api(token), {"score": 5, "comment": "great"}, format="json")
    assert response.status_code == 201
    assert response.json()["score"] == 5 and response.json()["survey"] == survey.pk

    again = api_client.post(api(token), {"score": 3}, format="json")
    assert again.status_code == 409 and "already been answered" in again.json()["detail"]


def test_api_refuses_bad_scores_unknown_fields_and_bad_tokens(api_client, survey):
    token = survey_token(survey=survey)
    assert api_client.post(api(token), {"score": 9}, format="json").json() == {
        "score": ["The score must be from 1 to 5."]
    }
    assert "colour" in api_client.post(api(token), {"score": 3, "colour": "red"}, format="json").json()
    assert api_client.post(api("forged:token:x"), {"score": 3}, format="json").status_code == 404
    assert api_client.post(api(old_token(survey, days=400)), {"score": 3}, format="json").status_code == 410
    assert not SurveyResponse.objects.exists()


def test_api_answers_are_throttled_per_address(api_client, survey):
    cache.delete("throttle_survey_answers_203.0.113.9")
    statuses = [
        api_client.post(api("x"), {"score": 3}, format="json", REMOTE_ADDR="203.0.113.9").status_code for _ in range(21)
    ]
    cache.delete("throttle_survey_answers_203.0.113.9")
    assert statuses[:20] == [404] * 20 and statuses[20] == 429


def test_the_answer_shows_on_the_interaction(staff_client, client, survey):
    client.post(page(survey), {"score": "2", "comment": "slow"})
    body = staff_client.get(reverse("v1:crm-api:interaction-detail", args=[survey.interaction_id])).json()
    [shown] = body["surveys"]
    assert (shown["kind"], shown["status"], shown["score"], shown["comment"]) == ("csat", "sent", 2, "slow")


def test_the_customer_opts_out_from_the_link_with_a_post_only(client, survey):
    opt_out = reverse("survey-opt-out", kwargs={"token": survey_token(survey=survey)})
    page = client.get(opt_out)
    assert page.status_code == 200 and "<form" in page.content.decode()
    survey.interaction.customer.refresh_from_db()
    assert survey.interaction.customer.survey_opt_out is False  # a mail scanner's GET changes nothing

    assert client.post(opt_out).status_code == 200
    survey.interaction.customer.refresh_from_db()
    assert survey.interaction.customer.survey_opt_out is True
    assert client.post(reverse("survey-opt-out", kwargs={"token": "forged:x:y"})).status_code == 404
