"""Public pages: the survey answer page a customer reaches from the link in their survey.

No login and no JavaScript: a plain form posted back to the same address. The signed token in the URL is
the only credential, so the form needs no CSRF cookie (which privacy-minded mail clients' browsers drop).
"""

from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from config.i18n import customer_language
from crm.choices import SURVEY_SCORE_RANGE, SurveyKind

from .services import (
    SurveyAlreadyAnswered,
    SurveyTokenExpired,
    SurveyTokenInvalid,
    survey_answer,
    survey_from_token,
    survey_opt_out,
)

QUESTIONS = {
    SurveyKind.CSAT: gettext_lazy("How satisfied are you with the help you received?"),
    SurveyKind.NPS: gettext_lazy("How likely are you to recommend us to a friend or colleague?"),
    SurveyKind.CES: gettext_lazy("How easy was it to get your issue resolved?"),
}
LABELS = {
    SurveyKind.CSAT: (gettext_lazy("Very dissatisfied"), gettext_lazy("Very satisfied")),
    SurveyKind.NPS: (gettext_lazy("Not at all likely"), gettext_lazy("Extremely likely")),
    SurveyKind.CES: (gettext_lazy("Very difficult"), gettext_lazy("Very easy")),
}


def _message(request, text: str, *, status: int):
    return render(request, "crm/survey_message.html", {"message": text}, status=status)


def _in_customer_language(view):
    """The page in the language of the customer the survey was sent to (their `language`), not the browser's."""

    def wrapper(request, token: str):
        try:
            language = customer_language(survey_from_token(token=token).interaction.customer)
        except (SurveyTokenExpired, SurveyTokenInvalid):
            return view(request, token)  # no customer known: the browser's language
        with translation.override(language):
            response = view(request, token)
            response.headers["Content-Language"] = language
            return response

    return wrapper


@csrf_exempt
@require_http_methods(["GET", "POST"])
@_in_customer_language
def survey_answer_view(request, token: str):
    try:
        survey = survey_from_token(token=token)
    except SurveyTokenExpired as exc:
        return _message(request, str(exc), status=410)
    except SurveyTokenInvalid as exc:
        return _message(request, str(exc), status=404)
    if hasattr(survey, "response"):
        return _message(request, _("This survey has already been answered. Thank you!"), status=409)
    low, high = SURVEY_SCORE_RANGE[survey.kind]
    errors: dict[str, list[str]] = {}
    values = {"score": "", "comment": ""}
    status = 200
    if request.method == "POST":
        values = {"score": request.POST.get("score", ""), "comment": request.POST.get("comment", "")}
        try:
            survey_answer(token=token, score=values["score"], comment=values["comment"])
        except SurveyAlreadyAnswered as exc:
            return _message(request, str(exc), status=409)
        except ValidationError as exc:
            errors = exc.message_dict
            status = 400
        else:
            return render(request, "crm/survey_thanks.html", {"survey": survey})
    context = {
        "survey": survey,
        "question": QUESTIONS[survey.kind],
        "labels": LABELS[survey.kind],
        "scores": [str(n) for n in range(low, high + 1)],
        "values": values,
        "errors": errors,
    }
    return render(request, "crm/survey_answer.html", context, status=status)


@csrf_exempt
@require_http_methods(["GET", "POST"])
@_in_customer_language
def survey_opt_out_view(request, token: str):
    """GET asks for confirmation (mail scanners follow links; only the button's POST opts out)."""
    try:
        survey_from_token(token=token)
    except SurveyTokenExpired as exc:
        return _message(request, str(exc), status=410)
    except SurveyTokenInvalid as exc:
        return _message(request, str(exc), status=404)
    if request.method == "POST":
        survey_opt_out(token=token)
        return _message(request, _("Done: we will not send you surveys any more."), status=200)
    return render(request, "crm/survey_opt_out.html", {})
