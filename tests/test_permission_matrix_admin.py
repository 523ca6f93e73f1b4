"""The admin's permission matrix: every registered model's pages and every custom admin URL, for every role,
on rows of team A, team B, rows of no team and the center's rows.

The pages come from ``admin.site._registry`` and each model admin's ``get_urls()``: a newly registered model, or a
custom admin URL, without an entry in ``EXPECTED`` / ``CUSTOM_URLS`` fails here until someone decides who may see
it. Refused means 403 or 404 (another team's row answers as a missing one); "login" means the admin's login
redirect.
"""

import re
from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission, User
from django.db import transaction
from django.db.models import Q
from django.test import Client
from django.urls import reverse

from agents.models import Agent, Team
from config.roles import ADMINISTRATOR_GROUP
from crm.models import ApiKey, Interaction, Message, Queue, Webhook
from tests.admin_world import (
    WORDS,
    build_world,
    foreign_rows,
    form_choices,
    form_data,
    grant_by_hand,
    outcome,
    row_values,
)
from tests.agents.factories import UserFactory

pytestmark = pytest.mark.django_db

ADMINS, TEAM, CENTER = "administrators only", "team-bound", "center-wide"


@dataclass(frozen=True)
class Expect:
    kind: str
    administrator: str  # what administrators may do: v(iew) a(dd) c(hange) d(elete)
    supervisor: str = ""  # what the Supervisor group may do with rows in its scope


EXPECTED = {
    "agents.agent": Expect(TEAM, "vacd", "vac"),
    "agents.agentstatuslog": Expect(TEAM, "v", "v"),
    # the audit log: a supervisor reads the entries about their teams' objects and their own actions
    "agents.auditentry": Expect(TEAM, "v", "v"),
    "agents.break": Expect(TEAM, "vc", "vc"),
    "agents.breakduenotice": Expect(TEAM, "v", "v"),
    "agents.breakpolicy": Expect(TEAM, "vacd", "vac"),
    "agents.breaktype": Expect(CENTER, "vc", "v"),
    "agents.skill": Expect(CENTER, "vacd", "v"),
    "agents.supervisoraction": Expect(TEAM, "v", "v"),
    "agents.team": Expect(TEAM, "vacd", "v"),
    "agents.trainingcourse": Expect(CENTER, "vacd", "v"),
    "agents.trainingrecord": Expect(TEAM, "vcd", "vc"),
    "auth.group": Expect(ADMINS, "vacd"),
    "auth.user": Expect(ADMINS, "vacd"),
    "axes.accessattempt": Expect(ADMINS, "vcd"),
    "axes.accessfailurelog": Expect(ADMINS, "vcd"),
    "axes.accesslog": Expect(ADMINS, "vcd"),
    "contacts.contactidentity": Expect(CENTER, "vacd", "vac"),
    "contacts.customer": Expect(CENTER, "vacd", "vac"),
    "contacts.note": Expect(CENTER, "vacd", "vacd"),
    "contacts.organization": Expect(CENTER, "vacd", "vac"),
    "crm.apikey": Expect(ADMINS, "vacd"),
    "crm.assignment": Expect(TEAM, "v", "v"),
    "crm.businesshours": Expect(CENTER, "vacd", "v"),
    "crm.cannedresponse": Expect(TEAM, "vacd", ""),
    "crm.deadletter": Expect(ADMINS, "v"),
    "crm.escalation": Expect(TEAM, "v", "v"),
    "crm.idempotencyrecord": Expect(ADMINS, "v"),
    "crm.inbox": Expect(TEAM, "vacd", "v"),  # center-wide set-up holding secrets: supervisors read their teams'
    # the import log: read where the inbox's queue is the team's; "run again" is an administrator's action
    "crm.inboundreceipt": Expect(TEAM, "v", "v"),
    # the outbox: read where the inbox's queue is the team's; "retry" of a failed one is an administrator's action
    "crm.delivery": Expect(TEAM, "v", "v"),
    "crm.interaction": Expect(TEAM, "vac", "vac"),
    "crm.interactionevent": Expect(TEAM, "v", "v"),
    "crm.message": Expect(TEAM, "vac", "vac"),
    "crm.queue": Expect(TEAM, "vacd", "vac"),
    # retention removes every team's data: administrators' only, hidden from supervisors
    "crm.retentionpolicy": Expect(ADMINS, "vacd"),
    "crm.review": Expect(TEAM, "vcd", "vc"),
    "crm.scorecard": Expect(CENTER, "vacd", "v"),
    "crm.slapolicy": Expect(CENTER, "vacd", "v"),
    "crm.survey": Expect(TEAM, "v", "v"),
    "crm.surveyresponse": Expect(TEAM, "v", "v"),
    "crm.surveysuppressionrule": Expect(TEAM, "vacd", "vacd"),
    "crm.webhook": Expect(ADMINS, "vacd"),
    "crm.webhookdelivery": Expect(ADMINS, "v"),
}


@dataclass(frozen=True)
class Custom:
    needs: str  # the letter of EXPECTED it follows
    bound: bool = False  # takes the id of a row of the model
    post: dict | None = None  # sent as a POST with this body
    ok_status: int = 200


CUSTOM_URLS = {
    "agents_agent_board": Custom("v"),
    # an unknown operation changes nothing: allowed, it comes back to the board with an error message
    "agents_agent_board_operation": Custom("c", bound=True, post={"op": "look"}, ok_status=302),
    "crm_review_sample": Custom("c"),
    "auth_user_password_change": Custom("c", bound=True),
}
STANDARD_VIEWS = ("changelist", "add", "change", "delete", "history")

ROLES = ["superuser", "administrator", "sup_a", "sup_b", "viewer_a", "agent_a", "no_team"]
ROLE_TEAMS = {"sup_a": {"A"}, "viewer_a": {"A"}, "sup_b": {"B"}, "no_team": set()}


def may(role: str, label: str, letter: str, row_key: str | None = None) -> bool:
    """Whether ``role`` may ``letter`` on ``label`` (on the model as a whole when ``row_key`` is None)."""
    expect = EXPECTED[label]
    if role in ("superuser", "administrator"):
        return letter in expect.administrator
    if expect.kind == ADMINS or role not in ROLE_TEAMS:
        return False
    held = "v" if role == "viewer_a" else expect.supervisor
    allowed = letter in held and letter in expect.administrator
    if row_key in ("A", "B"):
        return allowed and row_key in ROLE_TEAMS[role]
    if row_key == "shared":  # a row of no team: read by everyone, changed by administrators
        return allowed and letter == "v"
    return allowed


def foreign_words(role: str) -> list[str]:
    """The team words a page shown to ``role`` must not contain."""
    if role in ROLE_TEAMS:
        return [word for key, word in WORDS.items() if key not in ROLE_TEAMS[role]]
    return []


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the module, inside a transaction rolled back at its end; each test runs in a savepoint."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


@pytest.fixture
def client_as(world):
    def make(role: str) -> Client:
        client = Client()
        client.force_login(world.users[role])
        return client

    return make


def admin_pages():
    """(label, model admin) for every registered model, checked against the expectation tables."""
    for model, model_admin in admin.site._registry.items():
        yield model._meta.label_lower, model_admin


def test_every_registered_model_and_custom_admin_url_has_an_expectation():
    missing, custom = [], []
    for label, model_admin in admin_pages():
        if label not in EXPECTED:
            missing.append(label)
        info = (model_admin.opts.app_label, model_admin.opts.model_name)
        standard = {"{}_{}_{}".format(*info, view) for view in STANDARD_VIEWS}
        for pattern in model_admin.get_urls():
            name = getattr(pattern, "name", None)
            if name is None and str(pattern.pattern) == "<path:object_id>/":
                continue  # Django's redirect of an old-style change URL
            if name not in standard and name not in CUSTOM_URLS:
                custom.append(f"{label}: {pattern.pattern} (name {name})")
    assert not missing, f"Say who may see these admin models in EXPECTED: {missing}"
    assert not custom, f"Name these custom admin URLs and say who may use them in CUSTOM_URLS: {custom}"
    assert set(EXPECTED) == {label for label, _ in admin_pages()}, "EXPECTED names a model no longer registered"


def _check_page(role, label, view, row_key, response, allowed, mismatches, ok_status=200, foreign=None):
    got = outcome(response)
    if response.status_code == ok_status and got != "login":
        got = "ok"
    if role == "agent_a":
        expected = "login"
    else:
        expected = "ok" if allowed else "refused"
    where = f"{label} {view}" + (f" [{row_key}]" if row_key else "")
    if got != expected:
        mismatches.append(f"{where}: expected {expected}, got {got}")
        return
    if got != "ok" or response.status_code != 200:
        return
    html = response.content.decode()
    for word in foreign_words(role):
        if re.search(rf"\b{word}\b", html, re.IGNORECASE):
            mismatches.append(f"{where}: shows {word!r}, another team's")
    if view == "change":
        can_change = response.context["has_change_permission"]
        if can_change != may(role, label, "c", row_key):
            mismatches.append(f"{where}: offers changes: {can_change}")
    if view in ("add", "change") and role in ROLE_TEAMS:
        for name, queryset in form_choices(response):
            if queryset.filter(pk__in=(foreign or {}).get(queryset.model, ())).exists():
                mismatches.append(f"{where}: field {name} offers another team's {queryset.model._meta.model_name}")
            if queryset.model is User and queryset.filter(Q(is_staff=True) | Q(is_superuser=True)).exists():
                mismatches.append(f"{where}: field {name} offers staff users")


@pytest.mark.parametrize("role", ROLES)
def test_every_admin_page_answers_each_role_as_expected(world, client_as, role):
    client = client_as(role)
    foreign = foreign_rows(world, ROLE_TEAMS[role]) if role in ROLE_TEAMS else {}
    mismatches: list[str] = []
    for label, model_admin in admin_pages():
        info = (model_admin.opts.app_label, model_admin.opts.model_name)
        rows = world.rows[label]
        response = client.get(reverse("admin:{}_{}_changelist".format(*info)))
        _check_page(role, label, "changelist", None, response, may(role, label, "v"), mismatches)
        if response.status_code == 200:
            listed = {obj.pk for obj in response.context["cl"].result_list}
            for key, row in rows.items():
                if (row.pk in listed) != may(role, label, "v", key):
                    mismatches.append(f"{label} changelist: row [{key}] listed: {row.pk in listed}")
        response = client.get(reverse("admin:{}_{}_add".format(*info)))
        _check_page(role, label, "add", None, response, may(role, label, "a"), mismatches, foreign=foreign)
        for key, row in rows.items():
            for view, letter in (("change", "v"), ("history", "v"), ("delete", "d")):
                response = client.get(reverse("admin:{}_{}_{}".format(*info, view), args=[row.pk]))
                allowed = may(role, label, letter, key)
                _check_page(role, label, view, key, response, allowed, mismatches, foreign=foreign)
        for pattern in model_admin.get_urls():
            custom = CUSTOM_URLS.get(getattr(pattern, "name", None))
            if custom is None:
                continue
            for key, row in rows.items() if custom.bound else [(None, None)]:
                url = reverse(f"admin:{pattern.name}", args=[row.pk] if row else [])
                response = client.post(url, custom.post) if custom.post is not None else client.get(url)
                allowed = may(role, label, custom.needs, key)
                _check_page(role, label, pattern.name, key, response, allowed, mismatches, custom.ok_status)
    assert not mismatches, f"{role}:\n" + "\n".join(mismatches)


@pytest.mark.parametrize("role", [r for r in ROLES if r != "agent_a"])
def test_the_admin_index_lists_exactly_the_models_a_role_may_use(world, client_as, role):
    response = client_as(role).get(reverse("admin:index"))

    # grouped by job (config.admin_navigation): each model entry keeps its own app; "Live" holds links, not models
    listed = {
        f"{m['app_label']}.{m['object_name'].lower()}"
        for app in response.context["app_list"]
        for m in app["models"]
        if app["app_label"] != "live"
    }
    expected = {label for label in EXPECTED if any(may(role, label, letter) for letter in "vacd")}
    assert listed == expected
    for app_label in {label.split(".")[0] for label in EXPECTED}:
        page = client_as(role).get(reverse("admin:app_list", args=[app_label]))
        assert page.status_code == (200 if any(e.startswith(f"{app_label}.") for e in expected) else 404), app_label


@pytest.mark.parametrize("role", ROLES)
def test_the_landing_dashboard_shows_a_role_only_its_teams_figures(world, client_as, role):
    """The dashboard above the index (reporting.admin_dashboard): another team's queues and agents never appear;
    a plain agent (not staff) is sent to the admin's sign-in."""
    response = client_as(role).get(reverse("admin:index"))

    if role == "agent_a":
        assert outcome(response) == "login"
        return
    assert response.status_code == 200
    html = response.content.decode()
    for word in foreign_words(role):
        assert not re.search(rf"\b{word}\b", html, re.IGNORECASE), f"{role} sees {word!r}, another team's"
    queues = {queue["name"] for queue in response.context["dashboard"]["queues"]}
    sees = set(WORDS) if role in ("superuser", "administrator") else ROLE_TEAMS[role]
    assert {f"Queue {WORDS[key]}" for key in sees} <= queues
    assert not {f"Queue {word}" for word in foreign_words(role)} & queues


@pytest.mark.parametrize("role", ["sup_a", "viewer_a", "no_team"])
def test_autocomplete_offers_only_what_the_role_may_see(world, client_as, role):
    """The admin's autocomplete (any relation of any registered model) answers from the related model's admin."""
    client, foreign, leaks = client_as(role), foreign_rows(world, ROLE_TEAMS[role]), []
    for model in list(admin.site._registry):
        for field in model._meta.get_fields():
            related = admin.site._registry.get(field.related_model) if field.is_relation and field.concrete else None
            if related is None or not related.get_search_fields(None):
                continue
            query = {"app_label": model._meta.app_label, "model_name": model._meta.model_name, "field_name": field.name}
            response = client.get(reverse("admin:autocomplete"), query)
            label = related.model._meta.label_lower
            if response.status_code != 200:
                if may(role, label, "v"):
                    leaks.append(f"{model._meta.label_lower}.{field.name}: {response.status_code}")
                continue
            found = {int(result["id"]) for result in response.json()["results"]}
            if not may(role, label, "v") or found & foreign.get(field.related_model, set()):
                leaks.append(f"{model._meta.label_lower}.{field.name} offers {label} rows {sorted(found)}")
    assert not leaks, f"{role}: {leaks}"


# --- escalation attempts: each refused, and nothing written ------------------------------------------------------


@pytest.mark.parametrize("role", ["sup_a", "viewer_a", "no_team"])
def test_actions_on_rows_a_role_may_not_change_change_nothing(world, client_as, role):
    client = client_as(role)
    changed = []
    for label, model_admin in admin_pages():
        names = [a if isinstance(a, str) else a.__name__ for a in model_admin.actions or []] + ["delete_selected"]
        changelist = reverse(f"admin:{model_admin.opts.app_label}_{model_admin.opts.model_name}_changelist")
        for key, row in world.rows[label].items():
            if may(role, label, "c", key) or may(role, label, "d", key):
                continue
            before = row_values(type(row), row.pk)
            for name in names:
                client.post(changelist, {"action": name, "_selected_action": [row.pk], "post": "yes", "apply": "1"})
                if row_values(type(row), row.pk) != before:
                    changed.append(f"{label} [{key}] by {name}")
                    break
    assert not changed, f"{role} changed rows out of reach: {changed}"


def test_a_supervisor_cannot_make_an_api_key_or_a_webhook_nor_read_a_secret(world, client_as):
    counts = ApiKey.objects.count(), Webhook.objects.count()
    key = {"name": "mine", "scopes": ["read", "write", "admin"], "team": ""}
    hook = {"name": "mine", "url": "https://example.com/h", "events": '["*"]', "secret": "s" * 32, "is_active": "on"}

    for role in ["sup_a", "viewer_a"]:
        grant_by_hand(world.users[role], "add_apikey", "add_webhook", "view_webhook", "change_webhook")
        client = client_as(role)
        assert client.post(reverse("admin:crm_apikey_add"), key).status_code == 403
        assert client.post(reverse("admin:crm_webhook_add"), hook).status_code == 403
        webhook = world.rows["crm.webhook"]["center"]
        for page in [reverse("admin:crm_webhook_change", args=[webhook.pk]), reverse("admin:crm_webhook_changelist")]:
            response = client.get(page)
            assert response.status_code == 403 and "matrix-secret" not in response.content.decode()

    assert (ApiKey.objects.count(), Webhook.objects.count()) == counts


def test_a_supervisor_cannot_name_team_supervisors(world, client_as, admin_client):
    supervisor = world.users["sup_a"]
    grant_by_hand(supervisor, "add_team", "change_team")
    client = client_as("sup_a")
    before = {key: set(team.supervisors.values_list("pk", flat=True)) for key, team in world.teams.items()}

    for team in world.teams.values():
        url = reverse("admin:agents_team_change", args=[team.pk])
        data = form_data(admin_client.get(url)) | {"supervisors": [supervisor.pk, world.users["agent_a"].pk]}
        assert outcome(client.post(url, data)) == "refused"
    response = client.post(reverse("admin:agents_team_add"), {"name": "Mine too", "supervisors": [supervisor.pk]})

    assert response.status_code == 403 and not Team.objects.filter(name="Mine too").exists()
    assert {key: set(team.supervisors.values_list("pk", flat=True)) for key, team in world.teams.items()} == before


def test_a_supervisor_cannot_raise_a_user_or_a_group(world, client_as, admin_client):
    supervisor, client = world.users["sup_a"], client_as("sup_a")
    grant_by_hand(supervisor, "add_user", "change_user", "change_group")
    administrators = Group.objects.get(name=ADMINISTRATOR_GROUP)
    supervisors = Group.objects.get(name="Supervisor")
    granted = set(supervisors.permissions.values_list("pk", flat=True))

    for user in [supervisor, world.users["agent_a"]]:
        url = reverse("admin:auth_user_change", args=[user.pk])
        data = form_data(admin_client.get(url)) | {
            "is_staff": "on",
            "is_superuser": "on",
            "groups": [administrators.pk],
        }
        assert client.post(url, data).status_code == 403
    url = reverse("admin:auth_group_change", args=[supervisors.pk])
    everything = list(Permission.objects.values_list("pk", flat=True))
    assert client.post(url, {"name": "Supervisor", "permissions": everything}).status_code == 403
    add = {"username": "newboss", "usable_password": "false", "is_superuser": "on"}
    assert client.post(reverse("admin:auth_user_add"), add).status_code == 403

    for user in [supervisor, world.users["agent_a"]]:
        user.refresh_from_db()
        assert not user.is_superuser and not user.groups.filter(pk=administrators.pk).exists()
    assert not world.users["agent_a"].is_staff
    assert set(supervisors.permissions.values_list("pk", flat=True)) == granted
    assert not User.objects.filter(username="newboss").exists()


def test_a_supervisor_makes_and_moves_rows_only_within_their_teams(world, client_as, admin_client):
    client, team_a, team_b = client_as("sup_a"), world.teams["A"], world.teams["B"]
    newcomer, staff = UserFactory(username="newcomer"), world.users["no_team"]
    agent_add = reverse("admin:agents_agent_add")
    agent = {"name": "New One", "capacity": '{"chat": 1}', "is_active": "on"} | {
        "agent_skills-TOTAL_FORMS": "0",
        "agent_skills-INITIAL_FORMS": "0",
    }

    refused = {
        "another team": client.post(agent_add, agent | {"user": newcomer.pk, "team": team_b.pk}),
        "no team": client.post(agent_add, agent | {"user": newcomer.pk, "team": ""}),
        "a staff user": client.post(agent_add, agent | {"user": staff.pk, "team": team_a.pk}),
    }
    own = world.agents["A"]
    url = reverse("admin:agents_agent_change", args=[own.pk])
    refused["moving an agent"] = client.post(url, form_data(client.get(url)) | {"team": team_b.pk})
    queue_url = reverse("admin:crm_queue_change", args=[world.rows["crm.queue"]["A"].pk])
    queue = form_data(client.get(queue_url))
    refused["a queue of another team"] = client.post(
        reverse("admin:crm_queue_add"), queue | {"name": "Q2", "team": team_b.pk}
    )
    refused["a shared queue"] = client.post(reverse("admin:crm_queue_add"), queue | {"name": "Q3", "team": ""})
    refused["work in another team's queue"] = client.post(
        reverse("admin:crm_interaction_add"),
        {"customer": world.rows["contacts.customer"]["center"].pk, "channel": "chat", "direction": "inbound"}
        | {"queue": world.rows["crm.queue"]["B"].pk, "subject": "sneaky", "priority": "2"},
    )
    message = {"interaction": world.rows["crm.interaction"]["B"].pk, "direction": "internal", "body": "sneaky"}
    refused["a note on another team's work"] = client.post(reverse("admin:crm_message_add"), message)

    assert {
        what: (r.status_code, bool(r.context and r.context["errors"])) for what, r in refused.items()
    } == dict.fromkeys(refused, (200, True))
    grant_by_hand(world.users["sup_a"], "change_queue")  # they hold it; a shared queue is still not theirs
    shared = world.rows["crm.queue"]["shared"]
    shared_url = reverse("admin:crm_queue_change", args=[shared.pk])
    assert client.post(shared_url, form_data(admin_client.get(shared_url)) | {"priority": "9"}).status_code == 403
    own.refresh_from_db()
    shared.refresh_from_db()
    assert own.team == team_a and shared.priority != 9
    assert not Agent.objects.filter(user__in=[newcomer, staff]).exists()
    assert not Queue.objects.filter(name__in=["Q2", "Q3"]).exists()
    assert (
        not Interaction.objects.filter(subject="sneaky").exists() and not Message.objects.filter(body="sneaky").exists()
    )
    # the same forms work within the team: the refusals above are the scope, not a broken form
    assert client.post(agent_add, agent | {"user": newcomer.pk, "team": team_a.pk}).status_code == 302
    assert Agent.objects.get(user=newcomer).team == team_a


@pytest.mark.parametrize("role", ROLES)
def test_my_preferences_is_each_signed_in_user_s_own(world, client_as, role):
    """``/accounts/preferences/`` (agents.preferences): every signed-in role edits its own language and time zone,
    and only its own (the form names no user); nobody signed in is sent to sign in."""
    from agents.models import UserPreference

    url = reverse("preferences")
    assert Client().get(url).status_code == 302
    client = client_as(role)
    assert client.get(url).status_code == 200
    response = client.post(url, {"language": "de", "time_zone": "Europe/Berlin", "user": world.users["superuser"].pk})
    assert response.status_code == 302
    assert list(UserPreference.objects.values_list("user__username", "language")) == [
        (world.users[role].username, "de")
    ]
