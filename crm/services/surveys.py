"""Temporary: removed in phase 2. ``crm.services.surveys`` moved to ``crm.surveys.services``.

Re-exports for the modules not moved yet (admin, API, console views, consumers); new code imports the new paths.
"""

from crm.surveys.services import (  # noqa: F401
    MAX_COMMENT_LENGTH,
    MESSAGING_CHANNELS,
    TOKEN_SALT,
    SurveyAlreadyAnswered,
    SurveyTokenExpired,
    SurveyTokenInvalid,
    survey_answer,
    survey_check_score,
    survey_dispatch,
    survey_from_token,
    survey_link,
    survey_opt_out,
    survey_publish_due,
    survey_schedule,
    survey_token,
)

__all__ = [
    "MAX_COMMENT_LENGTH",
    "MESSAGING_CHANNELS",
    "SurveyAlreadyAnswered",
    "SurveyTokenExpired",
    "SurveyTokenInvalid",
    "TOKEN_SALT",
    "survey_answer",
    "survey_check_score",
    "survey_dispatch",
    "survey_from_token",
    "survey_link",
    "survey_opt_out",
    "survey_publish_due",
    "survey_schedule",
    "survey_token",
]
