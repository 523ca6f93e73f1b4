"""The OpenAPI schema class of the whole API: every operation documents the errors it can answer.

Views declare their success responses (and, where they want a more specific description, some errors);
this class adds the error responses the shared plumbing can give to any operation that did not declare
them: 401/403 (config.api.permissions), 404 on routes with an id and on lists (an invalid cursor),
400 on writes and on lists (filters, page_size), 409 on writes and deletes (config.api.exceptions),
413/415 on requests with a body. So integrators, and schemathesis in the test suite, know every status.
"""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse

from .serializers import ErrorSerializer

_FIELD_ERRORS = OpenApiResponse(
    OpenApiTypes.OBJECT, description='Invalid input: messages per field, e.g. {"name": ["This field is required."]}'
)
_CONFLICT = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description='Conflicts with the current state: a value already taken, as field messages, or {"detail", "code"}',
)
_ERRORS = {
    "400": _FIELD_ERRORS,
    "401": OpenApiResponse(ErrorSerializer, description="No API key, or an invalid, expired or revoked one"),
    "403": OpenApiResponse(
        ErrorSerializer,
        description="The caller lacks the scope, the team or the role this request needs (docs/security.md)",
    ),
    "404": OpenApiResponse(ErrorSerializer, description="No such object in your view (on a list: invalid cursor)"),
    "409": _CONFLICT,
    "413": OpenApiResponse(ErrorSerializer, description="Request body over the size limit (1 MB)"),
    "415": OpenApiResponse(ErrorSerializer, description="The body is not JSON"),
}


class AutoSchema(SpectacularAutoSchema):
    def _error_codes(self) -> list[str]:
        codes = ["401", "403"]
        has_id = "{" in self.path
        if self.method in ("POST", "PUT", "PATCH"):
            codes += ["400", "409", "413", "415"]
        elif self.method == "DELETE":
            codes += ["409"]
        else:
            codes += ["400"]  # query parameters: filters, ordering, page_size, cursor
        if has_id or self.method == "GET":
            codes.append("404")
        return codes

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if not self.path.startswith("/api/v1/"):
            return responses
        for code in self._error_codes():
            if code not in responses:
                error = _ERRORS[code]
                response = self._get_response_for_code(error.response, code, direction=direction)
                response["description"] = error.description
                responses[code] = response
        return responses
