"""Writing a drawn demo plan: reference data by natural key (reused when it exists), history in bulk (COPY).

Used by ``crm.demo.seed.demo_seed`` inside its transaction; see its docstring for why the services are bypassed.
"""

import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import connection, models

from agents.models import Agent, AgentSkill, AgentStatusLog, Skill, Team
from config import rowcache
from contacts.choices import IdentityChannel
from contacts.models import ContactIdentity, Customer, Note, Organization
from contacts.services import normalize_address
from crm.choices import Direction, SurveyStatus
from crm.choices import InteractionEventKind as Kind
from crm.demo import vocabulary as V
from crm.demo.bulk import copy_rows, timestamps_as_given
from crm.demo.shapes import DemoPlan, PersonPlan
from crm.interactions.models import Interaction, InteractionEvent, Message
from crm.routing.models import Queue, QueueSkill
from crm.sla.models import SLAPolicy, SLATarget
from crm.surveys.models import Survey, SurveyResponse

EXTERNAL_ID_PREFIX = "demo-"  # the mark of seeded data (crm.demo.seed re-exports it)
BATCH_SIZE = 2000
SUPERVISOR_GROUP, AGENT_GROUP = "Supervisor", "Agent"
STAFF_EMAIL_DOMAIN = "switchboard.example"


class DemoWriter:
    def __init__(self, plan: DemoPlan, *, password_hash: str):
        self.plan = plan
        # One hash for every demo user (they share the password): hashing 34 times would cost seconds.
        self.password_hash = password_hash
        self.existing_users: list[str] = []

    def write(self) -> None:
        self._people()
        self._service_levels_and_queues()
        rowcache.changed()  # SLA targets went in by bulk_create (no signal): running processes drop their copies
        self._customers()
        self._interactions()
        self._surveys_and_notes()
        self._presence()

    # --- reference data ---

    def _user(self, person: PersonPlan, *, staff: bool = False, superuser: bool = False, group: Group | None = None):
        user_model = get_user_model()
        user = user_model.objects.filter(username=person.username).first()
        if user is not None:
            self.existing_users.append(person.username)
            return user
        user = user_model.objects.create(
            username=person.username,
            first_name=person.first_name,
            last_name=person.last_name,
            email=f"{person.username}@{STAFF_EMAIL_DOMAIN}",
            is_staff=staff or superuser,
            is_superuser=superuser,
            password=self.password_hash,
        )
        if group is not None:
            user.groups.add(group)
        return user

    def _people(self) -> None:
        plan = self.plan
        groups = {g.name: g for g in Group.objects.filter(name__in=[SUPERVISOR_GROUP, AGENT_GROUP])}
        self._user(plan.admin, superuser=True)
        self.users = {}
        self.skills = {}
        for name in [*(t.skill for t in V.TEAMS), *V.LANGUAGE_SKILLS.values()]:
            self.skills[name] = Skill.objects.filter(name__iexact=name).first() or Skill.objects.create(
                name=name, description=V.SKILL_DESCRIPTIONS.get(name, "")
            )
        self.teams = {}
        for spec, person in zip(V.TEAMS, plan.supervisors, strict=True):
            team = Team.objects.filter(name__iexact=spec.name).first() or Team.objects.create(
                name=spec.name, description=spec.description
            )
            supervisor = self._user(person, staff=True, group=groups.get(SUPERVISOR_GROUP))
            team.supervisors.add(supervisor)
            self.teams[spec.name] = team
            self.users[person.username] = supervisor
        self.agents: dict[int, Agent] = {}
        agent_skills = []
        for planned in plan.agents:
            user = self._user(planned, group=groups.get(AGENT_GROUP))
            self.users[planned.username] = user
            agent = Agent.objects.filter(user=user).first() or Agent.objects.create(
                user=user, name=planned.full_name, team=self.teams[planned.team], capacity=planned.capacity
            )
            self.agents[planned.index] = agent
            agent_skills += [
                AgentSkill(agent=agent, skill=self.skills[name], level=level) for name, level in planned.skills.items()
            ]
        AgentSkill.objects.bulk_create(agent_skills, ignore_conflicts=True)

    def _service_levels_and_queues(self) -> None:
        policies = {}
        for spec in V.POLICIES:
            policy = SLAPolicy.objects.filter(name__iexact=spec.name).first()
            if policy is None:
                policy = SLAPolicy.objects.create(name=spec.name, description=spec.description)
                SLATarget.objects.bulk_create(
                    SLATarget(
                        policy=policy,
                        channel=channel,
                        priority=priority,
                        first_response_seconds=target.first_response,
                        next_response_seconds=target.next_response,
                        resolution_seconds=target.resolution,
                    )
                    for channel, priority, target in V.policy_targets(spec)
                )
            policies[spec.name] = policy
        self.queues: dict[str, Queue] = {}
        for spec in V.QUEUES:
            queue = Queue.objects.filter(name__iexact=spec.name).first()
            if queue is None:
                queue = Queue.objects.create(
                    name=spec.name,
                    description=spec.description,
                    team=self.teams[spec.team],
                    channels=list(spec.channels),
                    priority=spec.priority,
                    sla_policy=policies[spec.policy],
                    service_level_seconds=spec.service_level_seconds,
                    service_level_target=spec.service_level_target,
                )
                QueueSkill.objects.bulk_create(
                    QueueSkill(queue=queue, skill=self.skills[skill], min_level=level) for skill, level in spec.skills
                )
                if spec.overflow_to:
                    queue.overflow_queue = self.queues[spec.overflow_to]
                    queue.overflow_after_seconds = spec.overflow_after_seconds
                    queue.save(update_fields=["overflow_queue", "overflow_after_seconds"])
            self.queues[spec.name] = queue

    # --- customers ---

    def _customers(self) -> None:
        plan = self.plan
        org_rows = []
        existing_orgs = {o.name.casefold(): o for o in Organization.objects.all()}
        founded = plan.start - timedelta(days=3 * 365)
        for name, domain in plan.organizations:
            if name.casefold() not in existing_orgs:
                org_rows.append(Organization(name=name, domain=domain, created_at=founded, updated_at=founded))
        with timestamps_as_given(Organization, Customer, ContactIdentity):
            Organization.objects.bulk_create(org_rows, batch_size=BATCH_SIZE)
            orgs = {o.name.casefold(): o for o in [*existing_orgs.values(), *org_rows]}
            org_ids = [orgs[name.casefold()].pk for name, _ in plan.organizations]

            # (customer index, channel, address): normalised as the services store them; one already in use
            # (a customer created by hand with a demo address) is left to its owner
            wanted = []
            for index, c in enumerate(plan.customers):
                for channel, address in (
                    (IdentityChannel.EMAIL, c.email),
                    (IdentityChannel.PHONE, c.phone),
                    (IdentityChannel.SOCIAL, c.social),
                ):
                    if address:
                        try:
                            wanted.append((index, channel, normalize_address(channel=channel, address=address)))
                        except ValidationError:
                            continue
            taken = set()
            for channel in (IdentityChannel.EMAIL, IdentityChannel.PHONE, IdentityChannel.SOCIAL):
                addresses = [a for _, ch, a in wanted if ch == channel]
                taken |= {
                    (channel, a)
                    for a in ContactIdentity.objects.filter(channel=channel, address__in=addresses).values_list(
                        "address", flat=True
                    )
                }
            identities = [(i, ch, a) for i, ch, a in wanted if (ch, a) not in taken]
            mirror: dict[int, dict[str, str]] = {}
            for index, channel, address in identities:
                mirror.setdefault(index, {})[channel] = address

            rows = [
                Customer(
                    name=c.name,
                    email=mirror.get(i, {}).get(IdentityChannel.EMAIL, ""),
                    phone=mirror.get(i, {}).get(IdentityChannel.PHONE, ""),
                    organization_id=org_ids[c.organization] if c.organization is not None else None,
                    language=c.language,
                    timezone=c.timezone,
                    tier=c.tier,
                    tags=c.tags,
                    attributes=c.attributes,
                    survey_opt_out=c.survey_opt_out,
                    marketing_consent=c.marketing_consent,
                    created_at=c.created_at,
                    updated_at=c.created_at,
                )
                for i, c in enumerate(plan.customers)
            ]
            Customer.objects.bulk_create(rows, batch_size=BATCH_SIZE)
            self.customer_ids = [row.pk for row in rows]
            ContactIdentity.objects.bulk_create(
                (
                    ContactIdentity(
                        customer_id=self.customer_ids[i],
                        channel=channel,
                        address=address,
                        is_primary=True,
                        verified=channel != IdentityChannel.SOCIAL,
                        created_at=plan.customers[i].created_at,
                    )
                    for i, channel, address in identities
                ),
                batch_size=BATCH_SIZE,
            )

    # --- interactions ---

    def _reserve_ids(self, model: type[models.Model], count: int) -> list[int]:
        """Primary keys taken from the table's sequence up front, so follow-ups, events and messages can
        point at interactions before they are inserted (one insert per table, no updates afterwards)."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [model._meta.db_table, count],
            )
            return sorted(row[0] for row in cursor.fetchall())

    def _interactions(self) -> None:
        plan = self.plan
        ids = self._reserve_ids(Interaction, len(plan.interactions))
        self.interaction_ids = ids
        agent_user = {index: self.users[a.username].pk for index, a in enumerate(plan.agents)}
        rows, events, messages = [], [], []
        for ix in plan.interactions:
            interaction_id = ids[ix.index]
            agent_id = self.agents[ix.agent].pk if ix.agent is not None else None
            queue_id = self.queues[ix.queue].pk
            stamps = ix.stamps
            rows.append(
                (
                    interaction_id,
                    self.customer_ids[ix.customer],
                    ix.channel,
                    Direction.INBOUND,
                    queue_id,
                    ix.subject,
                    ix.status,
                    ix.priority,
                    agent_id,
                    f"{EXTERNAL_ID_PREFIX}{ix.index + 1:06d}",
                    ix.disposition,
                    ix.category,
                    ix.tags,
                    ids[ix.follow_up_of] if ix.follow_up_of is not None else None,
                    ix.created_at,
                    *(stamps.get(name) for name in STEP_STAMPS),
                    ix.updated_at,
                    ix.first_response_due_at,
                    ix.resolution_due_at,
                    ix.talk_seconds,
                    ix.hold_seconds,
                    ix.wrap_up_seconds,
                )
            )
            actor = agent_user[ix.agent] if ix.agent is not None else None
            events += [
                (
                    interaction_id,
                    e.kind,
                    e.from_status,
                    e.to_status,
                    actor if e.by_agent else None,
                    agent_id if e.with_agent else None,
                    e.at,
                    {**e.data, "queue_id": queue_id} if e.kind == Kind.QUEUED else e.data,
                )
                for e in ix.events
            ]
            messages += [
                (interaction_id, m.direction, actor if m.by_agent else None, m.body, [], "", "", m.at)
                for m in ix.messages
            ]
        copy_rows(Interaction, INTERACTION_COLUMNS, rows)
        copy_rows(
            InteractionEvent,
            ["interaction_id", "kind", "from_status", "to_status", "actor_id", "agent_id", "at", "data"],
            events,
        )
        copy_rows(
            Message,
            [
                "interaction_id",
                "direction",
                "author_id",
                "body",
                "attachments",
                "external_id",
                "delivery_status",
                "created_at",
            ],
            messages,
        )

    def _surveys_and_notes(self) -> None:
        plan = self.plan
        surveys = [
            Survey(
                interaction_id=self.interaction_ids[s.interaction],
                kind=s.kind,
                # real single-use secrets even in a demo: the answer page is public
                token=secrets.token_urlsafe(24),
                status=SurveyStatus.SENT,
                sent_at=s.sent_at,
                created_at=s.sent_at,
            )
            for s in plan.surveys
        ]
        notes = [
            Note(
                customer_id=self.customer_ids[n.customer],
                author_id=self.users[n.author].pk,
                body=n.body,
                created_at=n.created_at,
            )
            for n in plan.notes
        ]
        with timestamps_as_given(Survey, Note):
            Survey.objects.bulk_create(surveys, batch_size=BATCH_SIZE)
            Note.objects.bulk_create(notes, batch_size=BATCH_SIZE)
        SurveyResponse.objects.bulk_create(
            (
                SurveyResponse(survey_id=row.pk, score=s.score, comment=s.comment, answered_at=s.answered_at)
                for row, s in zip(surveys, plan.surveys, strict=True)
                if s.score is not None
            ),
            batch_size=BATCH_SIZE,
        )

    def _presence(self) -> None:
        """The agents' presence logs, and their current status: the last change before ``now``."""
        rows = []
        agents = []
        for planned in self.plan.agents:
            agent = self.agents[planned.index]
            user_id = self.users[planned.username].pk
            rows += [
                (agent.pk, change.status, change.previous, change.at, user_id, change.reason) for change in planned.log
            ]
            if planned.log:
                agent.status, agent.status_changed_at = planned.log[-1].status, planned.log[-1].at
                agents.append(agent)
        copy_rows(AgentStatusLog, ["agent_id", "status", "previous_status", "changed_at", "actor_id", "reason"], rows)
        Agent.objects.bulk_update(agents, ["status", "status_changed_at"])


# Interaction's step timestamps, in the order INTERACTION_COLUMNS lists them.
STEP_STAMPS = (
    "queued_at",
    "assigned_at",
    "accepted_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "abandoned_at",
)
INTERACTION_COLUMNS = [
    "id",
    "customer_id",
    "channel",
    "direction",
    "queue_id",
    "subject",
    "status",
    "priority",
    "agent_id",
    "external_id",
    "disposition",
    "category",
    "tags",
    "follow_up_of_id",
    "created_at",
    *STEP_STAMPS,
    "updated_at",
    "first_response_due_at",
    "resolution_due_at",
    "talk_seconds",
    "hold_seconds",
    "wrap_up_seconds",
]
