from rest_framework.routers import SimpleRouter

from .breaks import BreakViewSet
from .views import AgentViewSet, SkillViewSet, TeamViewSet

app_name = "agents-api"

router = SimpleRouter()
# Accept every route with or without its trailing slash: integrators write "POST /agents/7/status", and
# Django's slash-appending redirect would turn that POST into a GET and lose the body.
router.trailing_slash = "/?"
router.register("skills", SkillViewSet, basename="skill")
router.register("teams", TeamViewSet, basename="team")
router.register("agents", AgentViewSet, basename="agent")
router.register("breaks", BreakViewSet, basename="break")

urlpatterns = router.urls
