"""Who is asking, and which teams' data they may see. Every API view narrows its queryset with this.

Rules (ARCHITECTURE.md, "Security"):
- a staff user, or an API key not bound to a team: everything its scopes allow;
- an API key bound to a team: that team's queues, agents and interactions;
- a supervisor (a user listed in ``Team.supervisors``): the teams they supervise;
- an agent (a user with an ``Agent`` profile): their own work, and what waits in their team's queues;
- anybody else: nothing team-bound.
Customers and organizations are the shared directory of the center: every authenticated caller may read them.
"""

from dataclasses import dataclass

from .models import Agent


@dataclass(frozen=True)
class Viewer:
    unrestricted: bool
    team_ids: frozenset[int]
    agent_id: int | None = None
    is_supervisor: bool = False
    user_id: int | None = None
    api_key_id: int | None = None

    @property
    def is_agent_only(self) -> bool:
        """A plain agent: sees their own work and their team's waiting work, not other agents' work."""
        return not self.unrestricted and not self.is_supervisor and self.api_key_id is None


NOBODY = Viewer(unrestricted=False, team_ids=frozenset())


def viewer_for(*, user=None, api_key=None) -> Viewer:
    if api_key is not None:
        if api_key.team_id is None:
            return Viewer(unrestricted=True, team_ids=frozenset(), api_key_id=api_key.pk)
        return Viewer(unrestricted=False, team_ids=frozenset({api_key.team_id}), api_key_id=api_key.pk)
    if user is None or not user.is_authenticated:
        return NOBODY
    if user.is_staff or user.is_superuser:
        agent = Agent.objects.filter(user=user).only("id").first()
        return Viewer(unrestricted=True, team_ids=frozenset(), user_id=user.pk, agent_id=agent.pk if agent else None)
    supervised = frozenset(user.supervised_teams.values_list("id", flat=True))
    agent = Agent.objects.filter(user=user).only("id", "team_id").first()
    if supervised:
        return Viewer(
            unrestricted=False,
            team_ids=supervised,
            is_supervisor=True,
            user_id=user.pk,
            agent_id=agent.pk if agent else None,
        )
    if agent is not None:
        teams = frozenset({agent.team_id}) if agent.team_id else frozenset()
        return Viewer(unrestricted=False, team_ids=teams, agent_id=agent.pk, user_id=user.pk)
    return Viewer(unrestricted=False, team_ids=frozenset(), user_id=user.pk)


def viewer_from_request(request) -> Viewer:
    """The viewer of a DRF or Django request, computed once and cached on the request."""
    cached = getattr(request, "_switchboard_viewer", None)
    if cached is not None:
        return cached
    api_key = getattr(request, "auth", None)
    if api_key is not None and not hasattr(api_key, "scopes"):
        api_key = None  # a session or token that is not one of our keys
    viewer = viewer_for(user=getattr(request, "user", None), api_key=api_key)
    request._switchboard_viewer = viewer
    return viewer


def supervision_viewer_from_request(request) -> Viewer:
    """The viewer for supervision (breaks, reviews): like ``viewer_from_request``, except that a staff user who
    is not a superuser is narrowed to the teams they supervise, as in the admin cockpit. Supervisors are
    staff (to reach the admin), yet they manage only their own teams' agents."""
    viewer = viewer_from_request(request)
    user = getattr(request, "user", None)
    if not viewer.unrestricted or viewer.api_key_id is not None or user is None or user.is_superuser:
        return viewer
    supervised = frozenset(user.supervised_teams.values_list("id", flat=True))
    return Viewer(
        unrestricted=False, team_ids=supervised, is_supervisor=True, user_id=user.pk, agent_id=viewer.agent_id
    )
