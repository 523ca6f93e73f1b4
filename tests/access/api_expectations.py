"""Who may do what through /api/v1/: one entry per (method, path) of the OpenAPI schema (docs/security.md).

Each entry says, per role (``world.ROLES``), for which team's object the call must succeed: ``"AB"`` both,
``"A"`` or ``"B"`` one, ``""`` neither (then the answer must be 403 or 404, or — for a list — a 200 that does not
show the object). ``make`` builds team X's object in the state the call needs and returns the path's parameters
(and what ``seen`` looks for); ``data`` is the minimal valid body (query parameters for a GET), so an allowed
role's 2xx is really reachable: a 400 there fails the test. A refusal that can only come as a field error (the
body names something outside the caller's view, e.g. another team's queue) is listed in ``refused_400``.
Objects shared by the whole center (customers, skills, calendars, SLA policies, webhooks) are the same for
both columns.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any

from django.utils import timezone

from crm.calls.services import call_event, call_start
from crm.inboxes.models import Delivery, Inbox
from crm.interactions.services import message_create
from crm.privacy.models import ExportRequest
from crm.sla.services.calendars import PeriodSpec, business_hours_create
from crm.surveys.services import survey_token
from tests.agents.factories import SkillFactory, TeamFactory
from tests.contacts.factories import ContactIdentityFactory, CustomerFactory, OrganizationFactory
from tests.crm.factories import QueueFactory, SLAPolicyFactory, SurveyFactory, WebhookFactory
from tests.crm.inboxes.factories import InboxFactory

from .world import ROLES, S, break_of, completed_review, customer_with_work, interaction

NOBODY = dict.fromkeys(ROLES, "")


def allow(**teams: str) -> dict[str, str]:
    return NOBODY | teams


EVERYONE = dict.fromkeys(ROLES, "AB")
WRITERS = EVERYONE | {"read_key": ""}  # the shared directory: the write scope
# team-bound data read by its team: supervisors, agents (their own), team keys; unrestricted callers all of it
TEAM = allow(
    superuser="AB",
    supervisor_a="A",
    supervisor_b="B",
    agent_a="A",
    agent_b="B",
    read_key="AB",
    team_a_write_key="A",
    team_a_admin_key="A",
    admin_key="AB",
)
TEAM_NOT_AGENTS = TEAM | {"agent_a": "", "agent_b": ""}  # another agent of the team: agents see only themselves
OWNER = TEAM | {"read_key": ""}  # acting on team X's work: its agent, its supervisors, write keys
SUPERVISORS = OWNER | {"agent_a": "", "agent_b": ""}  # assign, approve a break, set a teammate's status
TEAM_ADMIN = allow(superuser="AB", team_a_admin_key="A", admin_key="AB")  # queues, agents: admin scope
CENTER_ADMIN = allow(superuser="AB", admin_key="AB")  # skills, teams, SLA, calendars, webhooks: unrestricted

# Cross-team refusals that are field errors: the body names team X's queue or agent, which the caller cannot see.
NAMES_OTHER_TEAM = frozenset(
    {
        ("supervisor_a", "B"),
        ("supervisor_b", "A"),
        ("agent_a", "B"),
        ("agent_b", "A"),
        ("team_a_write_key", "B"),
        ("team_a_admin_key", "B"),
    }
)


@dataclass(frozen=True)
class Op:
    allowed: dict[str, str]
    make: Callable[..., dict] = lambda world, team: {}
    data: Callable[..., Any] = lambda world, team, ctx: None
    seen: Callable[[Any, dict], bool] | None = None  # for reads showing many objects: is team X's among them?
    refused_400: frozenset = frozenset()


def ids(body) -> set:
    rows = body["results"] if isinstance(body, dict) and "results" in body else body
    return {row.get("id") for row in rows}


def listed(body, ctx) -> bool:
    return ctx["id"] in ids(body)


def rows(body) -> list:
    return body["rows"]


def _work(status, **kw):
    return lambda world, team: {"id": interaction(world, team, status, **kw).pk}


def _mate(world, team):
    return {"id": world[team].mate.pk}


def _break(stage):
    return lambda world, team: {"id": break_of(world, team, stage).pk}


def _survey(world, team):
    survey = SurveyFactory(interaction=interaction(world, team, S.RESOLVED))
    return {"token": survey_token(survey=survey)}


def _report_range(world, team, ctx):
    now = timezone.now()
    return {"from": (now - timedelta(days=1)).isoformat(), "to": (now + timedelta(hours=1)).isoformat()}


def _categorised(world, team):
    work = interaction(world, team, S.RESOLVED, category=f"cat-{team}")
    return {"category": work.category}


def _bridge_inbox(world, team):
    inbox = InboxFactory(
        channel="chat", adapter="bridge", queue=world[team].queue, settings={"url": "http://127.0.0.1:9/"}
    )
    return {"id": inbox.pk}


def _voice_line(world, team):
    """A voice line (inbox) of team X: it feeds team X's queue."""
    return {"inbox": InboxFactory(channel="voice", adapter="voice", queue=world[team].queue, settings={}).pk}


def _call_of(world, team, *, ended: bool = False):
    inbox = Inbox.objects.get(pk=_voice_line(world, team)["inbox"])
    call, _ = call_start(inbox=inbox, call_id=f"CA-{team}-{inbox.pk}", caller="+4930555" + f"{inbox.pk:04d}"[-4:])
    if ended:
        call_event(call=call, event="ended")
    return {"id": call.pk, "inbox": inbox.pk}


def _failed_reply(world, team):
    inbox = InboxFactory(
        channel="chat", adapter="bridge", queue=world[team].queue, settings={"url": "http://127.0.0.1:9/"}
    )
    work = interaction(world, team, S.ACTIVE, inbox=inbox)
    reply = message_create(interaction=work, direction="outbound", body="Sorry for the wait.")
    Delivery.objects.filter(message=reply).update(status="failed", error="HTTP 400")
    return {"interaction_pk": work.pk, "message_pk": reply.pk}


CALENDAR = {
    "name": "Office",
    "time_zone": "Europe/Berlin",
    "periods": [{"weekday": 0, "start": "09:00", "end": "17:00"}],
}


def _calendar(world, team):
    periods = [PeriodSpec(weekday=0, start=time(9), end=time(17))]
    return {"id": business_hours_create(name=f"Hours {team}", time_zone="UTC", periods=periods, holidays=()).pk}


def _email_queue(world, team):
    return {"queue": QueueFactory(name=f"Mail {team}", team=world[team].team, channels=["email"]).pk}


def _export(world, team):
    return {"id": ExportRequest.objects.create(customer=CustomerFactory()).pk}


def _inbox(world, team):
    """An inbox of team X: its queue is team X's."""
    return {"id": InboxFactory(queue_id=_email_queue(world, team)["queue"]).pk}


def _new_inbox(world, team, ctx):
    return {"name": f"Inbox {team}", "channel": "email", "queue": ctx["queue"], "settings": {"address": "s@acme.test"}}


V1 = "/api/v1"
EXPECTED: dict[str, Op] = {
    # --- agents ------------------------------------------------------------------------------------------
    f"GET {V1}/agents/": Op(TEAM_NOT_AGENTS, _mate, seen=listed),
    f"POST {V1}/agents/": Op(
        TEAM_ADMIN,
        data=lambda world, team, ctx: {"username": f"new-{team}", "name": "New", "team": world[team].team.pk},
        refused_400=NAMES_OTHER_TEAM,
    ),
    f"GET {V1}/agents/{{id}}/": Op(TEAM_NOT_AGENTS, _mate),
    f"PATCH {V1}/agents/{{id}}/": Op(TEAM_ADMIN, _mate, lambda world, team, ctx: {"name": "Renamed"}),
    f"POST {V1}/agents/{{id}}/status/": Op(SUPERVISORS, _mate, lambda world, team, ctx: {"status": "available"}),
    f"GET {V1}/agents/{{id}}/status-log/": Op(TEAM_NOT_AGENTS, _mate),
    f"GET {V1}/agents/{{id}}/training/": Op(TEAM_NOT_AGENTS, _mate),
    # no object: an agent's own profile; nobody else has one here (superuser and supervisors are no agents)
    f"GET {V1}/agents/me/": Op(allow(agent_a="AB", agent_b="AB")),
    # --- breaks (of team X's agent) ----------------------------------------------------------------------
    f"GET {V1}/breaks/": Op(TEAM, _break("requested"), seen=listed),
    f"POST {V1}/breaks/": Op(
        OWNER,
        data=lambda world, team, ctx: {"break_type": "lunch", "agent": world[team].agent.pk},
        refused_400=NAMES_OTHER_TEAM,
    ),
    f"GET {V1}/breaks/{{id}}/": Op(TEAM, _break("requested")),
    f"POST {V1}/breaks/{{id}}/approve/": Op(SUPERVISORS, _break("requested"), lambda world, team, ctx: {}),
    f"POST {V1}/breaks/{{id}}/deny/": Op(SUPERVISORS, _break("requested"), lambda world, team, ctx: {}),
    f"POST {V1}/breaks/{{id}}/start/": Op(OWNER, _break("approved")),
    f"POST {V1}/breaks/{{id}}/end/": Op(OWNER, _break("started")),
    # --- center-wide configuration -----------------------------------------------------------------------
    f"GET {V1}/business-hours/": Op(EVERYONE, _calendar, seen=listed),
    f"POST {V1}/business-hours/": Op(CENTER_ADMIN, data=lambda world, team, ctx: CALENDAR | {"name": f"Hours {team}"}),
    f"GET {V1}/business-hours/{{id}}/": Op(EVERYONE, _calendar),
    f"PUT {V1}/business-hours/{{id}}/": Op(CENTER_ADMIN, _calendar, lambda world, team, ctx: CALENDAR),
    f"PATCH {V1}/business-hours/{{id}}/": Op(CENTER_ADMIN, _calendar, lambda world, team, ctx: {"name": "Renamed"}),
    f"DELETE {V1}/business-hours/{{id}}/": Op(CENTER_ADMIN, _calendar),
    f"GET {V1}/sla-policies/": Op(EVERYONE, lambda world, team: {"id": SLAPolicyFactory().pk}, seen=listed),
    f"POST {V1}/sla-policies/": Op(
        CENTER_ADMIN, data=lambda world, team, ctx: {"name": f"SLA {team}", "first_response_seconds": 60}
    ),
    f"GET {V1}/sla-policies/{{id}}/": Op(EVERYONE, lambda world, team: {"id": SLAPolicyFactory().pk}),
    f"PUT {V1}/sla-policies/{{id}}/": Op(
        CENTER_ADMIN,
        lambda world, team: {"id": SLAPolicyFactory().pk},
        lambda world, team, ctx: {"name": "Replaced", "first_response_seconds": 60},
    ),
    f"PATCH {V1}/sla-policies/{{id}}/": Op(
        CENTER_ADMIN, lambda world, team: {"id": SLAPolicyFactory().pk}, lambda world, team, ctx: {"name": "Renamed"}
    ),
    f"DELETE {V1}/sla-policies/{{id}}/": Op(CENTER_ADMIN, lambda world, team: {"id": SLAPolicyFactory().pk}),
    f"GET {V1}/skills/": Op(EVERYONE, lambda world, team: {"id": SkillFactory().pk}, seen=listed),
    f"POST {V1}/skills/": Op(CENTER_ADMIN, data=lambda world, team, ctx: {"name": f"Skill {team}"}),
    f"GET {V1}/skills/{{id}}/": Op(EVERYONE, lambda world, team: {"id": SkillFactory().pk}),
    f"PATCH {V1}/skills/{{id}}/": Op(
        CENTER_ADMIN, lambda world, team: {"id": SkillFactory().pk}, lambda world, team, ctx: {"name": "Renamed"}
    ),
    f"DELETE {V1}/skills/{{id}}/": Op(CENTER_ADMIN, lambda world, team: {"id": SkillFactory().pk}),
    f"GET {V1}/webhooks/": Op(CENTER_ADMIN, lambda world, team: {"id": WebhookFactory().pk}, seen=listed),
    f"POST {V1}/webhooks/": Op(
        CENTER_ADMIN, data=lambda world, team, ctx: {"url": "http://127.0.0.1:9/hook", "events": ["*"]}
    ),
    f"GET {V1}/webhooks/{{id}}/": Op(CENTER_ADMIN, lambda world, team: {"id": WebhookFactory().pk}),
    f"PATCH {V1}/webhooks/{{id}}/": Op(
        CENTER_ADMIN, lambda world, team: {"id": WebhookFactory().pk}, lambda world, team, ctx: {"name": "Renamed"}
    ),
    f"DELETE {V1}/webhooks/{{id}}/": Op(CENTER_ADMIN, lambda world, team: {"id": WebhookFactory().pk}),
    # --- inboxes: center-wide configuration with secrets; team X's inbox is one on team X's queue --------------
    f"GET {V1}/inboxes/": Op(TEAM_ADMIN, _inbox, seen=listed),
    f"POST {V1}/inboxes/": Op(CENTER_ADMIN, _email_queue, _new_inbox),
    f"GET {V1}/inboxes/{{id}}/": Op(TEAM_ADMIN, _inbox),
    f"PATCH {V1}/inboxes/{{id}}/": Op(CENTER_ADMIN, _inbox, lambda world, team, ctx: {"name": "Renamed"}),
    f"DELETE {V1}/inboxes/{{id}}/": Op(CENTER_ADMIN, _inbox),
    # --- teams: team X itself; deleting: an empty team (team X still has agents, queues and keys) ---------
    f"GET {V1}/teams/": Op(TEAM, lambda world, team: {"id": world[team].team.pk}, seen=listed),
    f"POST {V1}/teams/": Op(CENTER_ADMIN, data=lambda world, team, ctx: {"name": f"New team {team}"}),
    f"GET {V1}/teams/{{id}}/": Op(TEAM, lambda world, team: {"id": world[team].team.pk}),
    f"PATCH {V1}/teams/{{id}}/": Op(
        TEAM_ADMIN, lambda world, team: {"id": world[team].team.pk}, lambda world, team, ctx: {"description": "x"}
    ),
    f"DELETE {V1}/teams/{{id}}/": Op(CENTER_ADMIN, lambda world, team: {"id": TeamFactory().pk}),
    # --- queues (team X's) -------------------------------------------------------------------------------
    f"GET {V1}/queues/": Op(TEAM, lambda world, team: {"id": world[team].queue.pk}, seen=listed),
    f"POST {V1}/queues/": Op(
        TEAM_ADMIN,
        data=lambda world, team, ctx: {"name": f"New {team}", "channels": ["chat"], "team": world[team].team.pk},
        refused_400=NAMES_OTHER_TEAM,
    ),
    f"GET {V1}/queues/{{id}}/": Op(TEAM, lambda world, team: {"id": world[team].queue.pk}),
    f"PUT {V1}/queues/{{id}}/": Op(
        TEAM_ADMIN,
        lambda world, team: {"id": world[team].queue2.pk},
        lambda world, team, ctx: {"name": f"Replaced {team}", "channels": ["chat"], "team": world[team].team.pk},
    ),
    f"PATCH {V1}/queues/{{id}}/": Op(
        TEAM_ADMIN, lambda world, team: {"id": world[team].queue2.pk}, lambda world, team, ctx: {"priority": 7}
    ),
    f"DELETE {V1}/queues/{{id}}/": Op(
        TEAM_ADMIN, lambda world, team: {"id": QueueFactory(team=world[team].team, channels=["chat"]).pk}
    ),
    f"GET {V1}/canned-responses/": Op(TEAM, lambda world, team: {"id": world[team].canned.pk}, seen=listed),
    # --- data protection: a customer's whole history spans every team: unrestricted admin callers only -------
    f"POST {V1}/customers/{{id}}/export/": Op(CENTER_ADMIN, lambda world, team: {"id": CustomerFactory().pk}),
    f"GET {V1}/exports/{{id}}/": Op(CENTER_ADMIN, _export),
    # the archive only through the signed link, once, by the requester (tests/crm/privacy/test_export.py)
    f"GET {V1}/exports/{{id}}/download/": Op(NOBODY, _export, lambda world, team, ctx: {"t": "not-signed"}),
    f"POST {V1}/customers/{{id}}/erase/": Op(
        CENTER_ADMIN,
        lambda world, team: {"id": CustomerFactory().pk},
        lambda world, team, ctx: {"reason": "the customer asked", "immediately": False},
    ),
    # --- the shared directory: customers and organizations -----------------------------------------------
    f"GET {V1}/customers/": Op(EVERYONE, lambda world, team: {"id": CustomerFactory().pk}, seen=listed),
    f"POST {V1}/customers/": Op(WRITERS, data=lambda world, team, ctx: {"name": f"Customer {team}"}),
    f"GET {V1}/customers/{{id}}/": Op(EVERYONE, lambda world, team: {"id": CustomerFactory().pk}),
    f"PUT {V1}/customers/{{id}}/": Op(
        WRITERS, lambda world, team: {"id": CustomerFactory().pk}, lambda world, team, ctx: {"name": "Replaced"}
    ),
    f"PATCH {V1}/customers/{{id}}/": Op(
        WRITERS, lambda world, team: {"id": CustomerFactory().pk}, lambda world, team, ctx: {"name": "Renamed"}
    ),
    f"DELETE {V1}/customers/{{id}}/": Op(WRITERS, lambda world, team: {"id": CustomerFactory().pk}),
    # the timeline of a customer served by team X: every caller may open it, only X's viewers see that work
    f"GET {V1}/customers/{{id}}/timeline/": Op(
        TEAM,
        lambda world, team: dict(zip(("id", "work"), (obj.pk for obj in customer_with_work(world, team)), strict=True)),
        seen=lambda body, ctx: ctx["work"] in {e["interaction"] for e in body["results"]},
    ),
    f"GET {V1}/customers/{{customer_id}}/identities/": Op(
        EVERYONE, lambda world, team: {"customer_id": CustomerFactory().pk}
    ),
    f"POST {V1}/customers/{{customer_id}}/identities/": Op(
        WRITERS,
        lambda world, team: {"customer_id": CustomerFactory().pk},
        lambda world, team, ctx: {"channel": "email", "address": f"new-{team.lower()}@example.com"},
    ),
    f"DELETE {V1}/customers/{{customer_id}}/identities/{{identity_id}}/": Op(
        WRITERS,
        lambda world, team: (lambda i: {"customer_id": i.customer_id, "identity_id": i.pk})(ContactIdentityFactory()),
    ),
    f"GET {V1}/customers/{{customer_id}}/notes/": Op(
        EVERYONE, lambda world, team: {"customer_id": CustomerFactory().pk}
    ),
    f"POST {V1}/customers/{{customer_id}}/notes/": Op(
        WRITERS, lambda world, team: {"customer_id": CustomerFactory().pk}, lambda world, team, ctx: {"body": "Hi"}
    ),
    f"GET {V1}/organizations/": Op(EVERYONE, lambda world, team: {"id": OrganizationFactory().pk}, seen=listed),
    f"POST {V1}/organizations/": Op(WRITERS, data=lambda world, team, ctx: {"name": f"Org {team}"}),
    f"GET {V1}/organizations/{{id}}/": Op(EVERYONE, lambda world, team: {"id": OrganizationFactory().pk}),
    f"PUT {V1}/organizations/{{id}}/": Op(
        WRITERS, lambda world, team: {"id": OrganizationFactory().pk}, lambda world, team, ctx: {"name": "Replaced"}
    ),
    f"PATCH {V1}/organizations/{{id}}/": Op(
        WRITERS, lambda world, team: {"id": OrganizationFactory().pk}, lambda world, team, ctx: {"name": "Renamed"}
    ),
    f"DELETE {V1}/organizations/{{id}}/": Op(WRITERS, lambda world, team: {"id": OrganizationFactory().pk}),
    # --- interactions: team X's work, held by team X's agent ---------------------------------------------
    f"GET {V1}/interactions/": Op(TEAM, _work(S.ACTIVE), seen=listed),
    f"POST {V1}/interactions/": Op(
        OWNER,
        data=lambda world, team, ctx: {
            "channel": "chat",
            "customer": CustomerFactory().pk,
            "queue": world[team].queue.pk,
        },
        refused_400=NAMES_OTHER_TEAM,
    ),
    f"GET {V1}/interactions/{{id}}/": Op(TEAM, _work(S.ACTIVE)),
    f"PATCH {V1}/interactions/{{id}}/": Op(OWNER, _work(S.ACTIVE), lambda world, team, ctx: {"subject": "Refund"}),
    f"POST {V1}/interactions/{{id}}/accept/": Op(
        OWNER, _work(S.ASSIGNED), lambda world, team, ctx: {"agent": world[team].agent.pk}
    ),
    # queued work of team X: its agents see it waiting, only supervisors and keys may hand it to someone
    f"POST {V1}/interactions/{{id}}/assign/": Op(
        SUPERVISORS, _work(S.QUEUED), lambda world, team, ctx: {"agent": world[team].agent.pk}
    ),
    f"POST {V1}/interactions/{{id}}/transfer/": Op(
        OWNER, _work(S.ACTIVE), lambda world, team, ctx: {"queue": world[team].queue2.pk}
    ),
    f"POST {V1}/interactions/{{id}}/hold/": Op(OWNER, _work(S.ACTIVE)),
    f"POST {V1}/interactions/{{id}}/resume/": Op(OWNER, _work(S.ON_HOLD)),
    f"POST {V1}/interactions/{{id}}/wrap-up/": Op(OWNER, _work(S.ACTIVE)),
    f"POST {V1}/interactions/{{id}}/resolve/": Op(
        OWNER, _work(S.ACTIVE), lambda world, team, ctx: {"disposition": "solved"}
    ),
    f"POST {V1}/interactions/{{id}}/close/": Op(OWNER, _work(S.RESOLVED)),
    f"POST {V1}/interactions/{{id}}/abandon/": Op(OWNER, _work(S.ON_HOLD)),
    f"POST {V1}/interactions/{{id}}/reopen/": Op(OWNER, _work(S.RESOLVED)),
    f"GET {V1}/interactions/{{interaction_pk}}/messages/": Op(
        TEAM, lambda world, team: {"interaction_pk": interaction(world, team, S.ACTIVE).pk}
    ),
    f"POST {V1}/interactions/{{interaction_pk}}/messages/": Op(
        OWNER,
        lambda world, team: {"interaction_pk": interaction(world, team, S.ACTIVE).pk},
        lambda world, team, ctx: {"direction": "outbound", "body": "We are on it."},
    ),
    f"POST {V1}/interactions/{{interaction_pk}}/messages/{{message_pk}}/retry/": Op(OWNER, _failed_reply),
    # --- inboxes: a bridge hands over a customer's message (keys of the inbox's team, unrestricted callers) -----
    f"POST {V1}/inboxes/{{id}}/messages/": Op(
        allow(superuser="AB", team_a_write_key="A", team_a_admin_key="A", admin_key="AB"),
        _bridge_inbox,
        lambda world, team, ctx: {"customer": {"address": f"visitor-{team}"}, "body": "Hi", "external_id": "m1"},
    ),
    # --- calls: a telephony platform reports a voice line's calls (keys of the line's team, unrestricted callers) --
    f"POST {V1}/calls/": Op(
        allow(superuser="AB", team_a_write_key="A", team_a_admin_key="A", admin_key="AB"),
        _voice_line,
        lambda world, team, ctx: {"inbox": ctx["inbox"], "call_id": f"CA-new-{team}", "caller": "+4930555123"},
    ),
    f"POST {V1}/calls/{{id}}/events/": Op(
        allow(superuser="AB", team_a_write_key="A", team_a_admin_key="A", admin_key="AB"),
        _call_of,
        lambda world, team, ctx: {"type": "ringing"},
    ),
    # --- quality and reports: team X's figures ------------------------------------------------------------
    f"GET {V1}/reviews/": Op(TEAM, lambda world, team: {"id": completed_review(world, team).pk}, seen=listed),
    f"GET {V1}/reviews/{{id}}/": Op(TEAM, lambda world, team: {"id": completed_review(world, team).pk}),
    f"GET {V1}/reports/kpis/": Op(
        TEAM,
        lambda world, team: {"queue": str(interaction(world, team, S.RESOLVED).queue_id)},
        lambda world, team, ctx: _report_range(world, team, ctx) | {"group_by": "queue"},
        seen=lambda body, ctx: ctx["queue"] in {row["group"] for row in rows(body)},
    ),
    f"GET {V1}/reports/categories/": Op(
        TEAM,
        _categorised,
        _report_range,
        seen=lambda body, ctx: ctx["category"] in {row["category"] for row in rows(body)},
    ),
    f"GET {V1}/reports/ivr/": Op(
        TEAM_NOT_AGENTS,  # a self-served call reached no agent: an agent's own figures hold none
        lambda world, team: _call_of(world, team, ended=True),
        lambda world, team, ctx: _report_range(world, team, ctx) | {"inbox": ctx["inbox"]},
        seen=lambda body, ctx: body["calls"] == 1,
    ),
    f"GET {V1}/reports/occupancy/": Op(
        TEAM,
        lambda world, team: {"agent": world[team].agent.pk},
        _report_range,
        seen=lambda body, ctx: ctx["agent"] in {row["agent"] for row in rows(body)},
    ),
    # --- public: the survey link's token is the credential, whoever else asks ------------------------------
    f"POST {V1}/surveys/{{token}}/responses": Op(EVERYONE, _survey, lambda world, team, ctx: {"score": 5}),
}
