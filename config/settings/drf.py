"""Django REST Framework and drf-spectacular."""

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "crm.access.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["config.api.permissions.HasScope"],
    "DEFAULT_PAGINATION_CLASS": "config.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "config.api.filters.StrictFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "config.api.schema.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["config.api.parsers.BoundedJSONParser"],
    "EXCEPTION_HANDLER": "config.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"anon": "60/minute", "survey_answers": "20/minute"},
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Switchboard API",
    "DESCRIPTION": (
        "REST API v1 of Switchboard, the open-source contact center. "
        "Authenticate with `Authorization: Bearer <api key>`; keys carry the scopes read, write and admin."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from our own static files (drf-spectacular-sidecar): the docs work without internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "ChannelEnum": "config.choices.Channel",
        "IdentityChannelEnum": "contacts.choices.IdentityChannel",
        "InteractionStatusEnum": "crm.choices.InteractionStatus",
        "AgentStatusEnum": "agents.choices.AgentStatus",
        "MessageDirectionEnum": "crm.choices.MessageDirection",
        "DirectionEnum": "crm.choices.Direction",
        "SLAClockEnum": "crm.choices.SLAClock",
        "EscalationActionEnum": "crm.choices.EscalationAction",
        "PrivacyRequestStatusEnum": "crm.privacy.models.RequestStatus",
    },
}

# Largest request body the API accepts; a bigger one is a 413, not a crash.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
