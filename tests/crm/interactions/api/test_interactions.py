import json
from dataclasses import asdict
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from contacts.models import Customer
from crm.access.services.api_keys import api_key_revoke
from crm.choices import InteractionEventKind, InteractionStatus, Priority
from crm.interactions.models import Interaction, InteractionEvent, Message
from tests.agents.factories import AgentFactory, TeamFactory
from tests.contacts.factories import CustomerFactory
from tests.crm.factories import InteractionFactory, QueueFactory, SLATargetFactory, interaction_in_status

pytestmark = pytest.mark.django_db

S = InteractionStatus
LIST = "/api/v1/interactions/"


def detail(pk, action=None, slash=False):
    url = f"/api/v1/interactions/{pk}" + (f"/{action}" if action else "")
    return url + "/" if slash else url


def counts():
    return (
        Interaction.objects.count(),
        Customer.objects.count(),
        Message.objects.count(),
        InteractionEvent.objects.count(),
    )


@pytest.fixture
def team_a():
    return TeamFactory(name="Team A")


@pytest.fixture
def team_b():
    return TeamFactory(name="Team B")


@pytest.fixture
def queue_a(team_a):
    return QueueFactory(team=team_a, channels=["chat", "email", "voice"], priority=5)


@pytest.fixture
def queue_b(team_b):
    return QueueFactory(team=team_b, channels=["chat", "email", "voice"], priority=4)


@pytest.fixture
def key_a(key_client_factory, team_a):
    return key_client_factory(["read", "write"], team=team_a)


def session_client(user):
    client = APIClient()
    client.force_login(user)
    return client


# --- create -------------------------------------------------------------------------------------


def test_create_with_a_customer_id_answers_the_whole_interaction(write_client, queue_a):
    customer = CustomerFactory()
    queue_a.sla_policy = SLATargetFactory(channel="chat", first_response_seconds=120).policy
    queue_a.save(update_fields=["sla_policy"])

    response = write_client.post(
        LIST,
        {"channel": "chat", "customer": customer.pk, "subject": "Card blocked", "body": "Help", "tags": ["card"]},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    interaction = Interaction.objects.get()
    assert body["id"] == interaction.pk
    assert body["status"] == "queued"
    assert (body["queue"], body["customer"], body["agent"]) == (queue_a.pk, customer.pk, None)
    assert (body["priority"], body["tags"], body["subject"]) == (Priority.NORMAL, ["card"], "Card blocked")
    assert body["first_response_due_at"] is not None
    assert body["sla"]["breached"] == [] and body["sla"]["paused"] is False
    assert body["sla"]["first_response_due_at"] == body["first_response_due_at"]
    assert 100 <= body["sla"]["remaining_seconds"]["first_response"] <= 120
    assert body["sla"]["remaining_seconds"]["resolution"] is not None
    assert body["sla"]["remaining_seconds"]["next_response"] is None
    for field in ["external_id", "category", "disposition", "follow_up_of", "created_at", "queued_at", "assigned_at"]:
        assert field in body
    assert Message.objects.get(interaction=interaction).body == "Help"


def test_create_with_a_customer_identity_finds_or_creates_the_customer(write_client, queue_a):
    first = write_client.post(
        LIST, {"channel": "email", "customer_identity": {"address": "Ana@Example.com", "name": "Ana"}}, format="json"
    )
    again = write_client.post(LIST, {"channel": "email", "customer_identity": {"address": "ana@example.com"}})

    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["customer"] == again.json()["customer"]
    assert Customer.objects.get().name == "Ana"


@pytest.mark.parametrize(("given", "stored"), [(4, 4), ("urgent", 4), ("High", 3), ("1", 1)])
def test_create_accepts_priority_as_number_or_name(write_client, queue_a, given, stored):
    response = write_client.post(LIST, {"channel": "chat", "customer": CustomerFactory().pk, "priority": given})

    assert response.status_code == 201, response.content
    assert response.json()["priority"] == stored


def test_create_without_trailing_slash_works_too(write_client, queue_a):
    response = write_client.post("/api/v1/interactions", {"channel": "chat", "customer": CustomerFactory().pk})

    assert response.status_code == 201


def test_create_into_a_named_queue(write_client, queue_a, queue_b):
    response = write_client.post(LIST, {"channel": "chat", "customer": CustomerFactory().pk, "queue": queue_b.pk})

    assert response.json()["queue"] == queue_b.pk


BAD_CREATES = [
    pytest.param({"customer": "CUSTOMER"}, "channel", id="missing-channel"),
    pytest.param({"channel": "fax", "customer": "CUSTOMER"}, "channel", id="unknown-channel"),
    pytest.param({"channel": 5, "customer": "CUSTOMER"}, "channel", id="channel-wrong-type"),
    pytest.param({"channel": "chat", "customer": "CUSTOMER", "priority": "top"}, "priority", id="priority-unknown"),
    pytest.param({"channel": "chat", "customer": "CUSTOMER", "priority": 7}, "priority", id="priority-out-of-range"),
    pytest.param({"channel": "chat", "customer": "CUSTOMER", "priority": True}, "priority", id="priority-bool"),
    pytest.param({"channel": "chat", "customer": "CUSTOMER", "tags": "vip"}, "tags", id="tags-not-a-list"),
    pytest.param({"channel": "chat", "customer": "CUSTOMER", "subject": ["x"]}, "subject", id="subject-wrong-type"),
    pytest.param({"channel": "chat", "customer": "CUSTOMER", "subject": "x" * 301}, "subject", id="subject-too-long"),
    pytest.param({"channel": "chat", "customer": "CUSTOMER", "priorty": 3}, "priorty", id="unknown-field"),
    pytest.param({"channel": "chat", "customer": "CUSTOMER", "status": "closed"}, "status", id="status-not-settable"),
    pytest.param({"channel": "chat"}, "customer", id="no-customer"),
    pytest.param(
        {"channel": "chat", "customer": "CUSTOMER", "customer_identity": {"address": "a@example.com"}},
        "customer",
        id="both-customer-and-identity",
    ),
    pytest.param({"channel": "chat", "customer": 999999}, "customer", id="unknown-customer"),
    pytest.param({"channel": "chat", "customer": 10**30}, "customer", id="customer-id-overflow"),
    pytest.param({"channel": "chat", "customer": "CUSTOMER", "queue": 999999}, "queue", id="unknown-queue"),
    pytest.param({"channel": "sms", "customer": "CUSTOMER", "queue": "QUEUE"}, "queue", id="queue-not-serving-channel"),
    pytest.param(
        {"channel": "email", "customer_identity": {"address": "not-an-email"}}, "customer_identity", id="bad-address"
    ),
    pytest.param(
        {"channel": "email", "customer_identity": {"address": "a@example.com", "nick": "x"}},
        "customer_identity",
        id="identity-unknown-field",
    ),
    pytest.param({"channel": "chat", "customer": "CUSTOMER", "body": "x" * 51}, "body", id="body-over-max-length"),
    pytest.param({"channel": "chat", "customer": "CUSTOMER", "body": "nul\x00byte"}, "body", id="body-nul-byte"),
]


@override_settings(SWITCHBOARD_MAX_MESSAGE_LENGTH=50)
@pytest.mark.parametrize(("payload", "field"), BAD_CREATES)
def test_create_rejects_bad_input_with_a_field_message_and_writes_nothing(write_client, queue_a, payload, field):
    customer = CustomerFactory()
    payload = {k: (customer.pk if v == "CUSTOMER" else queue_a.pk if v == "QUEUE" else v) for k, v in payload.items()}
    before = counts()

    response = write_client.post(LIST, payload, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()
    assert counts() == before


def test_an_unknown_field_says_so(write_client, queue_a):
    response = write_client.post(LIST, {"channel": "chat", "customer": CustomerFactory().pk, "colour": "red"})

    assert response.json() == {"colour": ["Unknown field."]}


def test_an_invalid_address_is_reported_on_the_nested_field(write_client):
    before = counts()

    response = write_client.post(LIST, {"channel": "email", "customer_identity": {"address": "nope"}}, format="json")

    assert response.status_code == 400
    assert "address" in response.json()["customer_identity"]
    assert counts() == before


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [("[1, 2]", "application/json"), ('{"channel": ', "application/json"), ("channel=chat", "text/plain")],
    ids=["list-body", "malformed-json", "unsupported-media-type"],
)
def test_create_rejects_bodies_that_are_not_a_json_object(write_client, queue_a, raw, content_type):
    before = counts()

    response = write_client.generic("POST", LIST, raw, content_type=content_type)

    assert response.status_code in (400, 415)
    assert response["Content-Type"].startswith("application/json")
    assert counts() == before


def test_a_body_over_one_megabyte_is_a_json_413_and_writes_nothing(write_client, queue_a):
    before = counts()
    payload = json.dumps({"channel": "chat", "customer": CustomerFactory().pk, "body": "x" * (1024 * 1024 + 10)})

    response = write_client.generic("POST", LIST, payload, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert counts()[0] == before[0]


def test_a_duplicate_external_id_is_a_field_error(write_client, queue_a):
    customer = CustomerFactory()
    first = write_client.post(LIST, {"channel": "voice", "customer": customer.pk, "external_id": "call-77"})
    before = counts()

    second = write_client.post(LIST, {"channel": "voice", "customer": customer.pk, "external_id": "call-77"})

    assert first.status_code == 201
    assert second.status_code == 400
    assert "external_id" in second.json()
    assert counts() == before


def test_a_team_key_creates_into_its_own_queues_only(key_a, queue_a, queue_b):
    customer = CustomerFactory()

    own = key_a.post(LIST, {"channel": "chat", "customer": customer.pk, "queue": queue_a.pk})
    other = key_a.post(LIST, {"channel": "chat", "customer": customer.pk, "queue": queue_b.pk})

    assert own.status_code == 201
    assert other.status_code == 400
    assert "queue" in other.json()
    assert Interaction.objects.count() == 1


def test_a_team_key_without_a_queue_gets_the_default_only_when_it_is_its_team(key_a, queue_a, queue_b):
    customer = CustomerFactory()
    assert key_a.post(LIST, {"channel": "chat", "customer": customer.pk}).json()["queue"] == queue_a.pk

    queue_b.priority = 9
    queue_b.save(update_fields=["priority"])
    response = key_a.post(LIST, {"channel": "chat", "customer": customer.pk})

    assert response.status_code == 400
    assert "queue" in response.json()
    assert Interaction.objects.count() == 1


def test_an_unrestricted_key_may_create_work_with_no_queue(write_client):
    response = write_client.post(LIST, {"channel": "web", "customer": CustomerFactory().pk})

    assert response.status_code == 201
    assert (response.json()["status"], response.json()["queue"]) == ("new", None)


# --- authentication and scopes --------------------------------------------------------------------


def test_no_key_is_401(api_client, queue_a):
    response = api_client.post(LIST, {"channel": "chat", "customer": CustomerFactory().pk})

    assert response.status_code == 401
    assert api_client.get(LIST).status_code == 401
    assert Interaction.objects.count() == 0


def test_a_revoked_or_invalid_key_is_401(write_client, queue_a):
    api_key_revoke(api_key=write_client.api_key)
    invalid = APIClient()
    invalid.credentials(HTTP_AUTHORIZATION="Bearer sb_not-a-key")

    assert write_client.get(LIST).status_code == 401
    assert write_client.post(LIST, {"channel": "chat", "customer": CustomerFactory().pk}).status_code == 401
    assert invalid.get(LIST).status_code == 401
    assert Interaction.objects.count() == 0


def test_a_read_only_key_reads_but_cannot_create(read_client, queue_a):
    interaction = interaction_in_status(S.QUEUED, queue=queue_a)
    before = counts()

    assert read_client.get(LIST).status_code == 200
    assert read_client.get(detail(interaction.pk)).status_code == 200
    response = read_client.post(LIST, {"channel": "chat", "customer": CustomerFactory().pk})

    assert response.status_code == 403
    assert counts()[0] == before[0]


WRITE_ENDPOINTS = [
    ("patch", None, {"subject": "x"}),
    ("post", "assign", {"agent": "AGENT"}),
    ("post", "accept", {"agent": "AGENT"}),
    ("post", "hold", {}),
    ("post", "resume", {}),
    ("post", "wrap-up", {}),
    ("post", "resolve", {"disposition": "done"}),
    ("post", "close", {}),
    ("post", "abandon", {}),
    ("post", "reopen", {}),
    ("post", "transfer", {"agent": "AGENT"}),
    ("post", "messages", {"direction": "inbound", "body": "hi"}),
]


@pytest.mark.parametrize(("method", "action", "payload"), WRITE_ENDPOINTS)
def test_a_read_only_key_gets_403_on_every_write(read_client, queue_a, method, action, payload):
    interaction = interaction_in_status(S.QUEUED, queue=queue_a)
    agent = AgentFactory(team=queue_a.team)
    payload = {k: agent.pk if v == "AGENT" else v for k, v in payload.items()}
    before = counts()

    response = getattr(read_client, method)(detail(interaction.pk, action), payload, format="json")

    assert response.status_code == 403
    assert counts() == before


# --- read ------------------------------------------------------------------------------------------


def test_detail_answers_one_interaction(write_client, queue_a):
    interaction = interaction_in_status(S.ACTIVE, queue=queue_a)

    for url in (detail(interaction.pk), detail(interaction.pk, slash=True)):
        response = write_client.get(url)
        assert response.status_code == 200
        assert (response.json()["id"], response.json()["status"]) == (interaction.pk, "active")
        assert response.json()["agent"] == interaction.agent_id


@pytest.mark.parametrize("pk", ["999999", "abc", str(10**30), "-1"])
def test_detail_of_a_missing_or_malformed_id_is_404(write_client, pk):
    assert write_client.get(detail(pk)).status_code == 404


def test_the_list_shows_only_what_a_team_key_may_see(key_a, queue_a, queue_b, team_a):
    own_queue = interaction_in_status(S.QUEUED, queue=queue_a)
    own_agent_elsewhere = interaction_in_status(S.ACTIVE, queue=queue_b, agent=AgentFactory(team=team_a))
    interaction_in_status(S.QUEUED, queue=queue_b)

    response = key_a.get(LIST)

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [own_agent_elsewhere.pk, own_queue.pk]


def test_an_agent_sees_their_own_work_and_their_team_queue_not_colleagues_work(queue_a, queue_b, team_a):
    me = AgentFactory(team=team_a)
    mine = interaction_in_status(S.ACTIVE, queue=queue_a, agent=me)
    waiting = interaction_in_status(S.QUEUED, queue=queue_a)
    colleagues = interaction_in_status(S.ACTIVE, queue=queue_a, agent=AgentFactory(team=team_a))
    other_team = interaction_in_status(S.QUEUED, queue=queue_b)
    client = session_client(me.user)

    ids = [row["id"] for row in client.get(LIST).json()["results"]]

    assert ids == [waiting.pk, mine.pk]
    assert client.get(detail(colleagues.pk)).status_code == 404
    assert client.get(detail(other_team.pk)).status_code == 404


def test_a_supervisor_sees_their_teams_work(queue_a, queue_b, team_a):
    supervisor = AgentFactory(team=None).user
    team_a.supervisors.add(supervisor)
    ours = interaction_in_status(S.ACTIVE, queue=queue_a)
    interaction_in_status(S.ACTIVE, queue=queue_b)

    ids = [row["id"] for row in session_client(supervisor).get(LIST).json()["results"]]

    assert ids == [ours.pk]


@pytest.fixture
def mixed(queue_a, queue_b):
    """Six interactions that differ in every filtered attribute."""
    old = timezone.now() - timedelta(days=3)
    agent = AgentFactory(team=queue_a.team)
    rows = {
        "queued_chat": interaction_in_status(S.QUEUED, queue=queue_a, channel="chat"),
        "active_email": interaction_in_status(S.ACTIVE, queue=queue_a, channel="email", agent=agent),
        "urgent_voice": interaction_in_status(S.QUEUED, queue=queue_b, channel="voice", priority=Priority.URGENT),
        "resolved": interaction_in_status(S.RESOLVED, queue=queue_b, external_id="crm-9"),
        "abandoned": interaction_in_status(S.ABANDONED, queue=queue_a),
        "old": interaction_in_status(S.QUEUED, queue=queue_a),
    }
    Interaction.objects.filter(pk=rows["old"].pk).update(created_at=old)
    rows["agent"] = agent
    return rows


def _ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_filters_narrow_the_list(write_client, mixed, queue_b):
    m = mixed
    yesterday = (timezone.now() - timedelta(days=1)).isoformat()

    assert _ids(write_client.get(LIST, {"status": "queued"})) == {
        m["queued_chat"].pk,
        m["urgent_voice"].pk,
        m["old"].pk,
    }
    assert _ids(write_client.get(LIST, {"status": "resolved,abandoned"})) == {m["resolved"].pk, m["abandoned"].pk}
    assert _ids(write_client.get(LIST, {"queue": queue_b.pk})) == {m["urgent_voice"].pk, m["resolved"].pk}
    assert _ids(write_client.get(LIST, {"agent": m["agent"].pk})) == {m["active_email"].pk}
    assert _ids(write_client.get(LIST, {"channel": "voice"})) == {m["urgent_voice"].pk}
    assert _ids(write_client.get(LIST, {"priority": 4})) == {m["urgent_voice"].pk}
    assert _ids(write_client.get(LIST, {"customer": m["resolved"].customer_id})) == {m["resolved"].pk}
    assert _ids(write_client.get(LIST, {"external_id": "crm-9"})) == {m["resolved"].pk}
    assert _ids(write_client.get(LIST, {"created_before": yesterday})) == {m["old"].pk}
    assert m["old"].pk not in _ids(write_client.get(LIST, {"created_after": yesterday}))
    assert len(_ids(write_client.get(LIST, {"created_after": yesterday}))) == 5


@pytest.mark.parametrize(
    "params",
    [
        {"status": "lost"},
        {"status": "queued,lost"},
        {"queue": "abc"},
        {"agent": "1.5"},
        {"queue": str(10**30)},
        {"channel": "fax"},
        {"priority": "9"},
        {"created_after": "yesterday"},
        {"created_after": "0001-01-01T00:00:00+05:00"},
        {"ordering": "subject"},
        {"status": ""},
        {"queue": ""},
        {"created_after": ""},
    ],
)
def test_a_bad_filter_value_is_400(write_client, params):
    response = write_client.get(LIST, params)

    assert response.status_code == 400
    assert set(response.json()) & (set(params) | {"ordering"})


def test_the_filter_form_is_built_once_and_each_request_is_still_checked_in_its_language(write_client, mixed):
    from crm.interactions.api.filters import InteractionFilterSet

    InteractionFilterSet._form_classes.clear()
    answers = [write_client.get(LIST, params) for params in ({"status": "queued"}, {"status": "bogus"})]
    german = write_client.get(LIST, {"status": "bogus"}, HTTP_ACCEPT_LANGUAGE="de")
    again = write_client.get(LIST, {"status": "queued,assigned"})

    assert answers[0].status_code == 200 and {row["status"] for row in answers[0].json()["results"]} == {"queued"}
    assert answers[1].status_code == 400 and "status" in answers[1].json()
    assert german.status_code == 400 and german.json()["status"] != answers[1].json()["status"]
    assert again.status_code == 200 and {row["status"] for row in again.json()["results"]} <= {"queued", "assigned"}
    assert set(InteractionFilterSet._form_classes) == {"en", "de"}  # one form class per language, not per request


def test_a_time_filter_with_an_unusual_utc_offset_is_understood(write_client, queue_a):
    interaction = interaction_in_status(S.QUEUED, queue=queue_a)

    response = write_client.get(LIST, {"created_before": "2999-09-07T21:42:25+21:23"})

    assert _ids(response) == {interaction.pk}


def test_ordering_by_priority_pages_through_every_row_once(write_client, queue_a):
    for priority in [1, 4, 2, 4, 3, 1, 2]:
        interaction_in_status(S.QUEUED, queue=queue_a, priority=priority)
    seen, url, params = [], LIST, {"ordering": "-priority", "page_size": 2}

    while url:
        page = write_client.get(url, params).json()
        seen += [(row["priority"], row["id"]) for row in page["results"]]
        url, params = page["next"], None

    assert len(seen) == 7
    assert seen == sorted(seen, key=lambda p: (-p[0], -p[1]))


@pytest.mark.parametrize(("ordering", "key"), [("created_at", "created_at"), ("-created_at", "created_at")])
def test_ordering_by_creation_time(write_client, queue_a, ordering, key):
    for _ in range(3):
        interaction_in_status(S.QUEUED, queue=queue_a)

    rows = write_client.get(LIST, {"ordering": ordering}).json()["results"]

    values = [row[key] for row in rows]
    assert values == sorted(values, reverse=ordering.startswith("-"))


def test_the_list_costs_the_same_queries_for_5_or_50_rows(
    own_cache_generation, write_client, queue_a, django_assert_max_num_queries
):
    agent = AgentFactory(team=queue_a.team)

    def make(n):
        for _ in range(n):
            InteractionFactory(queue=queue_a, status=S.ACTIVE, agent=agent)

    write_client.get(LIST)  # the key's last-used stamp is written once, outside the budget
    make(5)
    with django_assert_max_num_queries(3):
        assert len(write_client.get(LIST).json()["results"]) == 5
    make(45)
    with django_assert_max_num_queries(3):
        assert len(write_client.get(LIST).json()["results"]) == 50


def test_the_output_is_what_the_declared_fields_give(queue_a):
    # InteractionOutputSerializer writes its fields out by hand for speed; DRF's generic path over the
    # declared fields must give the very same body (keys, order, values and types)
    from rest_framework import serializers

    from crm.interactions.api.serializers import InteractionOutputSerializer
    from crm.sla.services.state import sla_state

    queue_a.sla_policy = SLATargetFactory(channel="chat", first_response_seconds=120).policy
    queue_a.save()
    resolved = interaction_in_status(S.RESOLVED, queue=queue_a, tags=["vip", "billing"], category="refund")
    rows = [
        resolved,
        interaction_in_status(S.QUEUED, queue=queue_a, customer=resolved.customer, priority=Priority.URGENT),
        interaction_in_status(S.ON_HOLD, queue=queue_a),
        interaction_in_status(S.ABANDONED, queue=queue_a),
        interaction_in_status(S.NEW),
    ]
    assert rows[1].follow_up_of_id == resolved.pk
    context = {"now": timezone.now() + timedelta(minutes=5)}

    # in UTC ("Z") and in a zone with an offset, as a user's or the API's active time zone would be
    for zone, interaction in [
        (zone, interaction)
        for zone in ("UTC", "America/Sao_Paulo")
        for interaction in [*rows, *Interaction.objects.filter(pk__in=[row.pk for row in rows])]
    ]:
        with timezone.override(zone):
            serializer = InteractionOutputSerializer(interaction, context=context)
            generic = serializers.ModelSerializer.to_representation(serializer, interaction)
            lean = serializer.to_representation(interaction)
        assert lean["created_at"].endswith("Z" if zone == "UTC" else "-03:00")
        assert list(lean) == list(generic)
        assert json.dumps(lean) == json.dumps(generic)
        assert [type(value) for value in lean.values()] == [type(value) for value in generic.values()]
        # the SLA state written out field by field: what dataclasses.asdict gave (keys, order, values)
        state = asdict(sla_state(interaction=interaction, now=context["now"]))
        with timezone.override(zone):
            for name in ("first_response_due_at", "next_response_due_at", "resolution_due_at"):
                state[name] = serializer._datetime(state[name])
        assert json.dumps(lean["sla"]) == json.dumps(state)


# --- update --------------------------------------------------------------------------------------


def test_patch_changes_subject_priority_tags_and_category(write_client, queue_a):
    interaction = interaction_in_status(S.QUEUED, queue=queue_a)

    response = write_client.patch(
        detail(interaction.pk), {"subject": "New", "priority": "high", "tags": ["a", "b"], "category": "billing"}
    )

    assert response.status_code == 200, response.content
    stored = Interaction.objects.get(pk=interaction.pk)
    assert (stored.subject, stored.priority, stored.tags, stored.category) == ("New", 3, ["a", "b"], "billing")
    assert response.json()["priority"] == 3
    assert InteractionEvent.objects.filter(interaction=stored, kind=InteractionEventKind.UPDATED).count() == 1


@pytest.mark.parametrize(
    ("payload", "field", "hint"),
    [
        ({"status": "closed"}, "status", "use the action endpoints"),
        ({"agent": 1}, "agent", "assign"),
        ({"queue_name": "x"}, "queue_name", "Unknown field."),
        ({"priority": "top"}, "priority", ""),
        ({"tags": [["nested"]]}, "tags", ""),
    ],
)
def test_patch_rejects_what_it_cannot_change(write_client, queue_a, payload, field, hint):
    interaction = interaction_in_status(S.QUEUED, queue=queue_a)
    snapshot = Interaction.objects.filter(pk=interaction.pk).values().get()

    response = write_client.patch(detail(interaction.pk), payload, format="json")

    assert response.status_code == 400
    assert hint in str(response.json()[field])
    assert Interaction.objects.filter(pk=interaction.pk).values().get() == snapshot


def test_put_and_delete_are_not_offered(write_client, queue_a):
    interaction = interaction_in_status(S.QUEUED, queue=queue_a)

    assert write_client.put(detail(interaction.pk), {"subject": "x"}).status_code == 405
    assert write_client.delete(detail(interaction.pk)).status_code == 405
    assert Interaction.objects.filter(pk=interaction.pk).exists()


# --- actions --------------------------------------------------------------------------------------


def test_an_integrator_walks_an_interaction_through_its_whole_life(write_client, queue_a):
    interaction = interaction_in_status(S.QUEUED, queue=queue_a)
    agent = AgentFactory(team=queue_a.team)
    steps = [
        ("assign", {"agent": agent.pk}, "assigned", False),
        ("accept", {"agent": agent.pk}, "active", True),
        ("hold", {}, "on_hold", False),
        ("resume", {}, "active", True),
        ("wrap-up", {}, "wrap_up", False),
        ("resolve", {"disposition": "solved", "category": "billing"}, "resolved", True),
        ("reopen", {}, "queued", False),
        ("assign", {"agent": agent.pk}, "assigned", True),
        ("accept", {"agent": agent.pk}, "active", False),
        ("resolve", {}, "resolved", False),
        ("close", None, "closed", True),
    ]

    for action, payload, status, slash in steps:
        response = write_client.post(detail(interaction.pk, action, slash=slash), payload, format="json")
        assert response.status_code == 200, (action, response.content)
        assert response.json()["status"] == status

    stored = Interaction.objects.get(pk=interaction.pk)
    assert stored.closed_at is not None
    assert stored.category == "billing"


def test_an_agent_accepts_their_work_from_the_console_without_naming_themselves(queue_a):
    interaction = interaction_in_status(S.ASSIGNED, queue=queue_a)
    client = session_client(interaction.agent.user)

    response = client.post(detail(interaction.pk, "accept"))

    assert response.status_code == 200
    event = InteractionEvent.objects.get(interaction=interaction, kind=InteractionEventKind.ACCEPTED)
    assert event.actor == interaction.agent.user


def test_a_key_must_name_the_accepting_agent(write_client, queue_a):
    interaction = interaction_in_status(S.ASSIGNED, queue=queue_a)

    response = write_client.post(detail(interaction.pk, "accept"))

    assert response.status_code == 400
    assert "agent" in response.json()
    assert Interaction.objects.get(pk=interaction.pk).status == S.ASSIGNED


def test_accepting_as_somebody_else_is_a_conflict(write_client, queue_a):
    interaction = interaction_in_status(S.ASSIGNED, queue=queue_a)

    response = write_client.post(detail(interaction.pk, "accept"), {"agent": AgentFactory(team=queue_a.team).pk})

    assert response.status_code == 409
    assert "assigned to another agent" in response.json()["detail"]


def test_an_agent_cannot_accept_in_a_colleagues_name(queue_a):
    interaction = interaction_in_status(S.ASSIGNED, queue=queue_a)
    client = session_client(interaction.agent.user)

    response = client.post(detail(interaction.pk, "accept"), {"agent": AgentFactory(team=queue_a.team).pk})

    assert response.status_code == 400
    assert Interaction.objects.get(pk=interaction.pk).status == S.ASSIGNED


@pytest.mark.parametrize(
    ("status", "action", "payload"),
    [
        (S.QUEUED, "close", {}),
        (S.CLOSED, "resolve", {}),
        (S.ACTIVE, "assign", {"agent": "AGENT"}),
        (S.QUEUED, "resume", {}),
        (S.ASSIGNED, "reopen", {}),
        (S.ABANDONED, "abandon", {}),
        (S.ACTIVE, "accept", {"agent": "AGENT"}),
        (S.QUEUED, "hold", {}),
        (S.WRAP_UP, "hold", {}),
    ],
)
def test_an_illegal_move_is_a_409_that_says_why_and_changes_nothing(write_client, queue_a, status, action, payload):
    interaction = interaction_in_status(status, queue=queue_a)
    payload = {k: AgentFactory(team=queue_a.team).pk if v == "AGENT" else v for k, v in payload.items()}
    before = counts()

    response = write_client.post(detail(interaction.pk, action), payload, format="json")

    assert response.status_code == 409
    assert response.json()["detail"].startswith(f"Interaction {interaction.pk} is {status}; it cannot be")
    assert response.json()["code"] == "illegal_transition"
    assert Interaction.objects.get(pk=interaction.pk).status == status
    assert counts() == before


def test_accepting_an_offer_that_already_timed_out_is_a_409(queue_a):
    from django.utils import timezone

    from crm.routing.services.offers import offer_timeouts_expire

    interaction = interaction_in_status(S.ASSIGNED, queue=queue_a)
    agent = interaction.agent
    offer_timeouts_expire(now=timezone.now() + timedelta(seconds=queue_a.accept_timeout_seconds + 1))

    response = session_client(agent.user).post(detail(interaction.pk, "accept"))

    assert response.status_code == 409
    assert response.json()["detail"].startswith(f"Interaction {interaction.pk} is queued; it cannot be accepted.")
    assert Interaction.objects.get(pk=interaction.pk).status == S.QUEUED


def test_the_closed_message_names_what_is_allowed(write_client, queue_a):
    interaction = interaction_in_status(S.CLOSED, queue=queue_a)

    response = write_client.post(detail(interaction.pk, "resolve"))

    assert response.json()["detail"] == (
        f"Interaction {interaction.pk} is closed; it cannot be resolved. Allowed from closed: none."
    )


@pytest.mark.parametrize(
    ("action", "payload", "field"),
    [
        ("assign", {}, "agent"),
        ("assign", {"agent": 999999}, "agent"),
        ("assign", {"agent": "me"}, "agent"),
        ("hold", {"reason": "x"}, "reason"),
        ("resolve", {"disposition": ["x"]}, "disposition"),
        ("resolve", {"dispositon": "x"}, "dispositon"),
    ],
)
def test_actions_reject_bad_input(write_client, queue_a, action, payload, field):
    interaction = interaction_in_status(S.ACTIVE if action != "assign" else S.QUEUED, queue=queue_a)
    before = counts()

    response = write_client.post(detail(interaction.pk, action), payload, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert counts() == before


def test_a_team_key_cannot_assign_to_another_teams_agent(key_a, queue_a, team_b):
    interaction = interaction_in_status(S.QUEUED, queue=queue_a)

    response = key_a.post(detail(interaction.pk, "assign"), {"agent": AgentFactory(team=team_b).pk})

    assert response.status_code == 400
    assert Interaction.objects.get(pk=interaction.pk).status == S.QUEUED


# --- object-level authorisation ---------------------------------------------------------------------

ID_ENDPOINTS = [("get", None, None), ("get", "messages", None)] + WRITE_ENDPOINTS


@pytest.mark.parametrize(("method", "action", "payload"), ID_ENDPOINTS)
@pytest.mark.parametrize("caller", ["team_key", "agent_session"])
def test_another_teams_interaction_is_404_on_every_endpoint(
    key_a, queue_a, queue_b, team_a, caller, method, action, payload
):
    theirs = interaction_in_status(S.ASSIGNED, queue=queue_b)
    client = key_a if caller == "team_key" else session_client(AgentFactory(team=team_a).user)
    payload = {k: theirs.agent_id if v == "AGENT" else v for k, v in (payload or {}).items()}
    before = counts()
    snapshot = Interaction.objects.filter(pk=theirs.pk).values().get()

    response = getattr(client, method)(detail(theirs.pk, action), payload or None, format="json")

    assert response.status_code == 404
    assert counts() == before
    assert Interaction.objects.filter(pk=theirs.pk).values().get() == snapshot
