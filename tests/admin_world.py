"""A small contact center for the admin's permission matrix: two teams, one row of every admin model per team,
the rows shared by all teams, and one person per role.

Every team-bound row's text carries its team's word ("Alpha" or "Bravo"), and nothing else does: a page shown
to a supervisor of Alpha that contains "Bravo" anywhere (a row, a filter, a form choice) shows another team's data.
"""

from dataclasses import dataclass, field
from datetime import time

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone

from agents.audit import audit_entry_write
from agents.breaks import break_send_now, break_type_get
from agents.choices import AgentStatus, BreakDueReason, BreakKind
from agents.models import BreakDueNotice, SupervisorAction, Team
from agents.services import agent_set_status
from config.audit import AuditRecord
from config.roles import ADMINISTRATOR_GROUP
from crm.access.services.api_keys import api_key_create
from crm.choices import InteractionStatus
from crm.inboxes.models import Delivery, InboundReceipt, Inbox
from crm.models import Escalation, IdempotencyRecord, RetentionPolicy, Review, Scorecard, ScorecardCriterion
from crm.sla.services.calendars import PeriodSpec, business_hours_create
from tests.agents.factories import (
    AgentFactory,
    BreakPolicyFactory,
    SkillFactory,
    TeamFactory,
    TrainingCourseFactory,
    TrainingRecordFactory,
    UserFactory,
)
from tests.contacts.factories import ContactIdentityFactory, CustomerFactory, NoteFactory, OrganizationFactory
from tests.crm.factories import (
    CannedResponseFactory,
    DeadLetterFactory,
    MessageFactory,
    QueueFactory,
    SLATargetFactory,
    SurveyFactory,
    SurveyResponseFactory,
    SurveySuppressionRuleFactory,
    WebhookAttemptFactory,
    WebhookFactory,
    interaction_in_status,
)
from tests.crm.groups import default_groups
from tests.crm.inboxes.factories import InboxFactory

WORDS = {"A": "Alpha", "B": "Bravo"}


@dataclass
class World:
    teams: dict = field(default_factory=dict)
    users: dict = field(default_factory=dict)  # role -> user
    agents: dict = field(default_factory=dict)  # "A"/"B" -> agent
    # model label -> {"A": row, "B": row, "shared": row} for team-bound models, {"center": row} otherwise
    rows: dict = field(default_factory=dict)


def _staff(username: str, *, groups=(), supervises=None):
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(*Group.objects.filter(name__in=groups))
    if supervises is not None:
        supervises.supervisors.add(user)
    return user


def _team_rows(world: World, key: str, card: Scorecard, course) -> None:
    word, team = WORDS[key], world.teams[key]
    lower = word.lower()
    user = world.users["agent_a"] if key == "A" else UserFactory(username=f"agent-{lower}")
    agent = AgentFactory(user=user, team=team, name=f"Ann {word}")
    world.agents[key] = agent
    agent_set_status(agent=agent, status=AgentStatus.AVAILABLE)
    queue = QueueFactory(name=f"Queue {word}", team=team, channels=["chat"])
    customer = CustomerFactory(name=f"Customer {key.lower()}1", email=f"customer-{key.lower()}1@example.com")
    interaction = interaction_in_status(
        InteractionStatus.RESOLVED, agent=agent, queue=queue, customer=customer, subject=f"{word} trouble"
    )
    survey = SurveyFactory(interaction=interaction)
    now = timezone.now()
    brk = break_send_now(agent=agent, actor=None, reason=f"{word} rest", enforce_cap=False)
    rows = {
        "agents.agent": agent,
        "agents.agentstatuslog": agent.status_log.first(),
        "agents.auditentry": audit_entry_write(
            AuditRecord(
                action="update",
                source="admin",
                actor="chief",
                model=Team,
                object_id=str(team.pk),
                object_repr=team.name,
                changes={"description": ["", f"{word} desk"]},
                team_id=team.pk,
            )
        ),  # fmt: skip
        "agents.break": brk,
        "agents.breakduenotice": BreakDueNotice.objects.create(
            agent=agent, reason=BreakDueReason.values[0], since=now, due_at=now, minutes=10, detail=f"{word} due"
        ),
        "agents.breakpolicy": BreakPolicyFactory(team=team),
        "agents.supervisoraction": SupervisorAction.objects.filter(agent=agent).first(),
        "agents.team": team,
        "agents.trainingrecord": TrainingRecordFactory(agent=agent, course=course),
        "crm.assignment": interaction.assignments.first(),
        "crm.cannedresponse": CannedResponseFactory(queue=queue, title=f"{word} thanks", body=f"{word} thanks you"),
        "crm.escalation": Escalation.objects.create(
            interaction=interaction,
            target="first_response",
            clock_started_at=now,
            step=0,
            kind="breach",
            due_at=now,
            created_at=now,
            outcome=f"{word} late",
        ),
        "crm.inbox": InboxFactory(
            name=f"{word} mail", queue=QueueFactory(name=f"Mail {word}", team=team, channels=["email"])
        ),
        "crm.inboundreceipt": _failed_receipt(word, team),
        "crm.delivery": _failed_delivery(word, team, interaction),
        "crm.interaction": interaction,
        "crm.interactionevent": interaction.events.first(),
        "crm.message": MessageFactory(interaction=interaction, body=f"Hello {word}"),
        "crm.queue": queue,
        "crm.review": Review.objects.create(interaction=interaction, agent=agent, scorecard=card, created_at=now),
        "crm.survey": survey,
        "crm.surveyresponse": SurveyResponseFactory(survey=survey, comment=f"{word} was kind"),
        "crm.surveysuppressionrule": SurveySuppressionRuleFactory(queue=queue, note=f"{word} rule"),
    }
    for label, row in rows.items():
        assert row is not None, f"no {label} row for team {word}"
        world.rows.setdefault(label, {})[key] = row


def _failed_receipt(word: str, team) -> InboundReceipt:
    """A failed e-mail import of the team's inbox, its raw bytes kept (what "run again" would import)."""
    inbox = Inbox.objects.create(
        name=f"{word} receipts", channel="email", adapter="email", settings={"address": f"{word.lower()}@acme.test"},
        queue=QueueFactory(name=f"Mail {word} receipts", team=team, channels=["email"]),
    )  # fmt: skip
    raw = f"From: {word.lower()}-customer@example.com\r\nSubject: {word}\r\n\r\nNeeds help.\r\n".encode()
    return InboundReceipt.objects.create(
        inbox=inbox, key=f"{word.lower()}-1@example.com", status="failed", reason=f"{word} queue refused it",
        raw=raw, size=len(raw), received_at=timezone.now(),
    )  # fmt: skip


def _failed_delivery(word: str, team, interaction) -> Delivery:
    """A reply on the team's interaction that its team's inbox could not deliver ("retry" would send it again)."""
    inbox = Inbox.objects.create(
        name=f"{word} outbox", channel="email", adapter="email", settings={"address": f"out-{word.lower()}@acme.test"},
        queue=QueueFactory(name=f"Mail {word} outbox", team=team, channels=["email"]),
    )  # fmt: skip
    message = MessageFactory(
        interaction=interaction, direction="outbound", body=f"{word} answer", delivery_status="failed"
    )
    now = timezone.now()
    return Delivery.objects.create(
        message=message, inbox=inbox, status="failed", attempts=3, error=f"{word} mailbox full", next_attempt_at=now,
        created_at=now,
    )  # fmt: skip


def build_world() -> World:
    default_groups()
    world = World(teams={key: TeamFactory(name=f"Team {word}") for key, word in WORDS.items()})
    users = world.users
    users["superuser"] = UserFactory(username="root", is_staff=True, is_superuser=True)
    users["administrator"] = _staff("chief", groups=[ADMINISTRATOR_GROUP])
    users["sup_a"] = _staff("sup-alpha", groups=["Supervisor"], supervises=world.teams["A"])
    users["sup_b"] = _staff("sup-bravo", groups=["Supervisor"], supervises=world.teams["B"])
    # holds every view permission there is, API keys' and webhooks' included: the admin must still refuse those
    users["viewer_a"] = _staff("viewer-alpha", supervises=world.teams["A"])
    users["viewer_a"].user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    users["agent_a"] = UserFactory(username="agent-alpha")  # not staff: the admin sends them to its login
    users["no_team"] = _staff("sup-nowhere", groups=["Supervisor"])

    card = Scorecard.objects.create(name="Matrix card")
    ScorecardCriterion.objects.create(scorecard=card, name="Empathy", weight=2)
    course = TrainingCourseFactory(title="Onboarding")
    for key in WORDS:
        _team_rows(world, key, card, course)
    world.rows["crm.queue"]["shared"] = QueueFactory(name="Queue Shared", team=None, channels=["chat"])
    world.rows["crm.cannedresponse"]["shared"] = CannedResponseFactory(queue=None, title="Shared thanks", body="Thanks")
    world.rows["crm.inbox"]["shared"] = InboxFactory(
        name="Shared mail", queue=QueueFactory(name="Mail Shared", team=None, channels=["email"])
    )
    world.rows["crm.surveysuppressionrule"]["shared"] = SurveySuppressionRuleFactory(queue=None, note="center rule")

    customer = CustomerFactory(name="Carla Center", email="carla@example.com")
    delivery = WebhookAttemptFactory().delivery
    center = {
        "agents.breaktype": break_type_get(code=BreakKind.WELL_BEING),
        "agents.skill": SkillFactory(name="Spanish"),
        "agents.trainingcourse": course,
        "auth.group": Group.objects.get(name="Agent"),
        "auth.user": UserFactory(username="plain-user"),
        "axes.accessattempt": AccessAttempt.objects.create(
            user_agent="test",
            ip_address="127.0.0.1",
            username="someone",
            http_accept="*/*",
            path_info="/",
            attempt_time=timezone.now(),
            get_data="",
            post_data="",
            failures_since_start=1,
        ),
        "axes.accessfailurelog": AccessFailureLog.objects.create(
            user_agent="test",
            ip_address="127.0.0.1",
            username="someone",
            http_accept="*/*",
            path_info="/",
            attempt_time=timezone.now(),
        ),
        "axes.accesslog": AccessLog.objects.create(
            user_agent="test",
            ip_address="127.0.0.1",
            username="someone",
            http_accept="*/*",
            path_info="/",
            attempt_time=timezone.now(),
        ),
        "contacts.contactidentity": ContactIdentityFactory(customer=customer, channel="phone", address="+4930123456"),
        "contacts.customer": customer,
        "contacts.note": NoteFactory(customer=customer, body="called back"),
        "contacts.organization": OrganizationFactory(name="Acme"),
        "crm.apikey": api_key_create(name="integrator", scopes=["read"])[0],
        "crm.businesshours": business_hours_create(
            name="Office", time_zone="Europe/Berlin", periods=[PeriodSpec(0, time(9), time(17))]
        ),
        "crm.deadletter": DeadLetterFactory(),
        "crm.idempotencyrecord": IdempotencyRecord.objects.create(owner="key:1", key="abc", request_hash="0" * 64),
        "crm.retentionpolicy": RetentionPolicy.objects.create(name="Chat transcripts", target="messages", age_days=365),
        "crm.scorecard": card,
        "crm.slapolicy": SLATargetFactory().policy,
        "crm.webhook": WebhookFactory(name="Integrator hook", secret="matrix-secret-do-not-show"),
        "crm.webhookdelivery": delivery,
    }
    for label, row in center.items():
        world.rows[label] = {"center": row}
    return world


def form_data(response) -> dict:
    """What a browser would post back, unchanged, from a rendered admin add or change form (inlines included)."""
    data = {}

    def add(form, name_of=lambda name: name):
        for name, form_field in form.fields.items():
            value = form_field.prepare_value(form[name].value())
            if isinstance(form_field, forms.MultipleChoiceField):
                data[name_of(name)] = value or []
            elif isinstance(form_field, forms.BooleanField):
                if value:
                    data[name_of(name)] = "on"
            elif isinstance(form_field, forms.MultiValueField):
                for index, part in enumerate(form_field.widget.decompress(value)):
                    data[f"{name_of(name)}_{index}"] = "" if part is None else part
            else:
                data[name_of(name)] = "" if value is None else value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        add(formset.management_form, lambda name, prefix=formset.prefix: f"{prefix}-{name}")
        for form in formset.initial_forms:
            add(form, form.add_prefix)
    return data


def foreign_rows(world, own_teams: set[str]) -> dict:
    """model -> ids of the rows of the teams not in ``own_teams`` ("A", "B"), their people included."""
    keys = set(WORDS) - own_teams
    rows = [row for by_key in world.rows.values() for key, row in by_key.items() if key in keys]
    rows += [world.agents[key].user for key in keys]
    rows += [user for key in keys for user in world.teams[key].supervisors.all()]
    found: dict = {}
    for row in rows:
        found.setdefault(type(row), set()).add(row.pk)
    return found


def form_choices(response):
    """(field name, queryset) of every relation choice on an admin form page, its inlines' included."""
    shown = [response.context["adminform"].form]
    shown += [inline.formset.empty_form for inline in response.context.get("inline_admin_formsets") or []]
    for form in shown:
        for name, form_field in form.fields.items():
            # an inline row's hidden id is checked against the inline's own rows, not offered
            if getattr(form_field, "queryset", None) is not None and name != form._meta.model._meta.pk.name:
                yield name, form_field.queryset


def outcome(response) -> str:
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith(reverse("admin:login")):
            return "login"
        return f"302 to {location}"
    return {403: "refused", 404: "refused"}.get(response.status_code, str(response.status_code))


def row_values(model, pk) -> dict | None:
    return model._default_manager.filter(pk=pk).values().first()


def grant_by_hand(user, *codenames: str) -> None:
    """What someone might grant later: the admin must refuse anyway (it does not rest on the group's grants)."""
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
