"""Two teams, the people and keys of every role, and builders of per-case objects, for the permission matrices.

Team X (A or B) has: its agent (``agent_X``, a role), a teammate (``mate``), a supervisor (``supervisor_X``, a
role; staff, to show that ``is_staff`` changes nothing), two chat queues, a canned response and a customer.
The builders make a fresh object of team X in the state an operation needs; the matrix runs each case inside a
savepoint it rolls back, so cases never see each other's changes.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone
from rest_framework.test import APIClient

from agents.breaks import break_request, break_send_now, break_type_get
from agents.choices import AgentStatus
from agents.models import Agent, Team
from agents.services import agent_set_status
from crm.access.services.api_keys import api_key_create
from crm.choices import InteractionStatus, ReviewStatus
from crm.models import CannedResponse, Interaction, Queue, Review, Scorecard
from tests.agents.factories import AgentFactory, TeamFactory, UserFactory
from tests.contacts.factories import CustomerFactory
from tests.crm.factories import CannedResponseFactory, InteractionFactory, QueueFactory

S = InteractionStatus
ROLES = (
    "superuser",
    "supervisor_a",
    "supervisor_b",
    "agent_a",
    "agent_b",
    "read_key",
    "team_a_write_key",
    "team_a_admin_key",
    "admin_key",
)
TEAMS = ("A", "B")


@dataclass
class TeamSide:
    team: Team
    agent: Agent
    mate: Agent
    supervisor: object
    queue: Queue
    queue2: Queue
    canned: CannedResponse


@dataclass
class World:
    side: dict[str, TeamSide]
    clients: dict[str, APIClient] = field(default_factory=dict)
    scorecard: Scorecard | None = None

    def __getitem__(self, team: str) -> TeamSide:
        return self.side[team]


def build_world() -> World:
    sides = {}
    for name in TEAMS:
        team = TeamFactory(name=f"Team {name}")
        supervisor = UserFactory(username=f"supervisor-{name.lower()}", is_staff=True)
        team.supervisors.add(supervisor)
        agent = AgentFactory(team=team, name=f"Agent {name}", user__username=f"agent-{name.lower()}")
        mate = AgentFactory(team=team, name=f"Mate {name}", user__username=f"mate-{name.lower()}")
        queue = QueueFactory(name=f"Chat {name}", team=team, channels=["chat"])
        queue2 = QueueFactory(name=f"Chat {name} 2", team=team, channels=["chat"])
        canned = CannedResponseFactory(queue=queue, title=f"Hello from {name}")
        sides[name] = TeamSide(team, agent, mate, supervisor, queue, queue2, canned)
    world = World(side=sides, scorecard=Scorecard.objects.create(name="Matrix card"))
    sessions = {
        "superuser": UserFactory(username="root", is_staff=True, is_superuser=True),
        "supervisor_a": sides["A"].supervisor,
        "supervisor_b": sides["B"].supervisor,
        "agent_a": sides["A"].agent.user,
        "agent_b": sides["B"].agent.user,
    }
    for role, user in sessions.items():
        client = APIClient()
        client.force_login(user)
        world.clients[role] = client
    keys = {
        "read_key": (["read"], None),
        "team_a_write_key": (["read", "write"], sides["A"].team),
        "team_a_admin_key": (["admin"], sides["A"].team),
        "admin_key": (["admin"], None),
    }
    for role, (scopes, team) in keys.items():
        _, raw = api_key_create(name=role, scopes=scopes, team=team)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        world.clients[role] = client
    return world


# --- per-case objects of team X --------------------------------------------------------------------------


def interaction(world: World, team: str, status: str, *, owned: bool = True, **fields) -> Interaction:
    """Team X's work in ``status``; owned by team X's agent unless ``owned`` is false (queued work is nobody's)."""
    side, now = world[team], timezone.now()
    values = {"queue": side.queue, "status": status, "created_at": now - timedelta(minutes=10)}
    values["queued_at"] = values["created_at"]
    if owned and status != S.QUEUED:
        values |= {"agent": side.agent, "assigned_at": now - timedelta(minutes=5)}
        if status != S.ASSIGNED:
            values["accepted_at"] = now - timedelta(minutes=4)
        if status in (S.RESOLVED, S.CLOSED):
            values["resolved_at"] = now - timedelta(minutes=1)
    return InteractionFactory(**(values | fields))


def break_of(world: World, team: str, stage: str):
    """A break of team X's agent: ``requested``, ``approved`` (to be started) or ``started``."""
    agent = world[team].agent
    if stage == "started":
        agent_set_status(agent=agent, status=AgentStatus.AVAILABLE)
        return break_send_now(agent=agent, actor=None)
    return break_request(agent=agent, break_type=break_type_get(code="short"), actor=None, approved=stage == "approved")


def completed_review(world: World, team: str) -> Review:
    now = timezone.now()
    return Review.objects.create(
        interaction=interaction(world, team, S.RESOLVED),
        agent=world[team].agent,
        scorecard=world.scorecard,
        status=ReviewStatus.COMPLETED,
        total_score=80,
        created_at=now,
        completed_at=now,
    )


def customer_with_work(world: World, team: str):
    """A customer with one interaction of team X (owned by its agent): the timeline shows it to X's viewers."""
    work = interaction(world, team, S.ACTIVE, customer=CustomerFactory())
    return work.customer, work
