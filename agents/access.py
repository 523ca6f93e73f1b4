"""Who is asking, and which teams' data they may see: the one place that decides a viewer's scope.

Every API queryset, admin queryset and form choice, socket subscription and export is narrowed by the
``Viewer`` this module computes (docs/security.md has the whole matrix):
- an **administrator** (a superuser, or a member of the ``Administrator`` group): everything;
- an API key not bound to a team: everything its scopes allow; bound to a team: that team's queues, agents
  and interactions;
- a **supervisor** (a user listed in ``Team.supervisors``): the teams they supervise;
- an **agent** (a user with an ``Agent`` profile): their own work, and what waits in their team's queues;
- anybody else, staff included: nothing team-bound. ``is_staff`` only opens the admin's door.
Customers and organizations are the shared directory of the center: every authenticated caller may read them.
"""

from dataclasses import dataclass

from config.roles import ADMINISTRATOR_GROUP, is_administrator

from .models import Agent

__all__ = ["ADMINISTRATOR_GROUP", "NOBODY", "Viewer", "is_administrator", "viewer_for", "viewer_from_request"]


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

    @property
    def admin_team_ids(self) -> set[int] | None:
        """For admin querysets: None means every team (unrestricted); otherwise the supervised teams (maybe none).
        A plain agent who reached the admin supervises nothing and so sees no team's rows there."""
        if self.unrestricted:
            return None
        return set(self.team_ids) if self.is_supervisor else set()


NOBODY = Viewer(unrestricted=False, team_ids=frozenset())


_UNKNOWN = object()


def viewer_for(*, user=None, api_key=None, agent=_UNKNOWN) -> Viewer:
    """``agent``: the user's agent (or None), when the caller has read it already (the console's views)."""
    if api_key is not None:
        if api_key.team_id is None:
            return Viewer(unrestricted=True, team_ids=frozenset(), api_key_id=api_key.pk)
        return Viewer(unrestricted=False, team_ids=frozenset({api_key.team_id}), api_key_id=api_key.pk)
    if user is None or not user.is_authenticated:
        return NOBODY
    if agent is _UNKNOWN or getattr(agent, "user_id", user.pk) != user.pk:
        agent = Agent.objects.filter(user=user).only("id", "team_id").first()
    agent_id = agent.pk if agent else None
    if is_administrator(user):
        return Viewer(unrestricted=True, team_ids=frozenset(), user_id=user.pk, agent_id=agent_id)
    supervised = frozenset(user.supervised_teams.values_list("id", flat=True))
    if supervised:
        return Viewer(unrestricted=False, team_ids=supervised, is_supervisor=True, user_id=user.pk, agent_id=agent_id)
    if agent is not None:
        teams = frozenset({agent.team_id}) if agent.team_id else frozenset()
        return Viewer(unrestricted=False, team_ids=teams, agent_id=agent_id, user_id=user.pk)
    return Viewer(unrestricted=False, team_ids=frozenset(), user_id=user.pk)


def viewer_from_request(request) -> Viewer:
    """The viewer of a DRF or Django request, computed once and cached on the request."""
    cached = getattr(request, "_switchboard_viewer", None)
    if cached is not None:
        return cached
    api_key = getattr(request, "auth", None)
    if api_key is not None and not hasattr(api_key, "scopes"):
        api_key = None  # a session or token that is not one of our keys
    known = {"agent": request.agent} if getattr(request, "agent", None) is not None else {}  # the console's
    viewer = viewer_for(user=getattr(request, "user", None), api_key=api_key, **known)
    request._switchboard_viewer = viewer
    return viewer
