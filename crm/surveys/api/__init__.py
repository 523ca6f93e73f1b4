"""The public REST endpoint that answers a survey (``/api/v1/surveys/{token}/responses``)."""
