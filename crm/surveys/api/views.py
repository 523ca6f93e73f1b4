"""The public survey answer endpoint: the signed token is the credential; throttled per client address."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.throttling import ScopedRateThrottle

from ..services import SurveyTokenExpired, SurveyTokenInvalid, survey_answer
from .serializers import SurveyAnswerInputSerializer, SurveyAnswerOutputSerializer


class SurveyResponseView(APIView):
    """``POST /api/v1/surveys/{token}/responses``: the answer page's API twin, for apps and messaging bots."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "survey_answers"

    @extend_schema(
        summary="Answer a survey (public; the token from the survey link is the credential)",
        request=SurveyAnswerInputSerializer,
        responses={
            201: SurveyAnswerOutputSerializer,
            404: OpenApiResponse(OpenApiTypes.OBJECT, description="The token is not valid"),
            409: OpenApiResponse(OpenApiTypes.OBJECT, description="The survey has already been answered"),
            410: OpenApiResponse(OpenApiTypes.OBJECT, description="The token has expired"),
            429: OpenApiResponse(OpenApiTypes.OBJECT, description="Too many answers from this address"),
        },
    )
    def post(self, request: Request, token: str) -> Response:
        serializer = SurveyAnswerInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            response = survey_answer(token=token, **serializer.validated_data)
        except SurveyTokenExpired as exc:
            return Response({"detail": str(exc), "code": exc.code, "status": 410}, status=status.HTTP_410_GONE)
        except SurveyTokenInvalid as exc:
            raise exceptions.NotFound(str(exc)) from None
        return Response(SurveyAnswerOutputSerializer(response).data, status=status.HTTP_201_CREATED)
