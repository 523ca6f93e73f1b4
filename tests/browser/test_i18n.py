"""A German supervisor and a Spanish agent in Chromium (issue 17, item 5): the admin in German, the console in
Spanish — server-rendered text, the scripts' live text (Django's JavaScript catalogue) and times in each person's
own time zone — without a JavaScript error."""

import httpx
import pytest
from playwright.sync_api import expect

from agents.models import UserPreference
from crm.access.services.api_keys import api_key_create
from tests.agents.factories import AgentFactory, TeamFactory, UserFactory
from tests.browser.pages import sign_in, wait_live
from tests.contacts.factories import CustomerFactory
from tests.crm.factories import QueueFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators"),
]


@pytest.fixture
def center(transactional_db, eager_celery):
    team = TeamFactory(name="Soporte")
    queue = QueueFactory(name="Chat", team=team, channels=["chat"])
    agent = AgentFactory(user=UserFactory(username="sofia"), name="Sofía", team=team, capacity={"chat": 2})
    UserPreference.objects.create(user=agent.user, language="es", time_zone="America/Mexico_City")
    supervisor = UserFactory(username="gerda", is_staff=True)
    team.supervisors.add(supervisor)
    UserPreference.objects.create(user=supervisor, language="de", time_zone="Europe/Berlin")
    _, raw_key = api_key_create(name="chat platform", scopes=["read", "write"])
    return {"queue": queue, "customer": CustomerFactory(name="Carla"), "key": raw_key}


def watch_errors(page, problems):
    page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
    page.on("console", lambda m: m.type == "error" and problems.append(f"console error: {m.text}"))


def test_german_supervisor_and_spanish_agent(asgi_live_server, asgi_context_factory, center):
    problems: list[str] = []

    # The German supervisor: the admin index in German, times in Berlin's zone.
    admin = asgi_context_factory().new_page()
    sign_in(admin, "gerda")  # lands on /console/, which answers a supervisor 403 ("the console is for agents")
    admin.wait_for_url("**/console/")  # that 403 loaded before errors are watched (under load it could come after)
    watch_errors(admin, problems)
    admin.goto("/admin/")
    expect(admin.locator("html")).to_have_attribute("lang", "de")
    expect(admin.locator("#site-name")).to_have_text("Switchboard-Verwaltung")
    expect(admin.get_by_role("link", name="Meine Einstellungen")).to_be_visible()
    expect(admin.get_by_role("button", name="Abmelden")).to_be_visible()
    admin.goto("/wallboard/")
    wait_live(admin)
    expect(admin.get_by_role("heading", name="Warteschlangen")).to_be_visible()
    assert admin.evaluate("window.SwitchboardLive.formatTime('2026-07-01T15:30:00Z')") == "17:30"  # CEST

    # The Spanish agent: the console in Spanish, the live texts from the JavaScript catalogue too.
    console = asgi_context_factory().new_page()
    watch_errors(console, problems)
    sign_in(console, "sofia")
    expect(console.locator("html")).to_have_attribute("lang", "es")
    expect(console.get_by_role("heading", name="Mi estado")).to_be_visible()
    console.get_by_role("button", name="Disponible").click()
    expect(console.get_by_text("Ahora está disponible.")).to_be_visible()
    wait_live(console)
    assert console.evaluate("window.SwitchboardLive.formatTime('2026-07-01T15:30:00Z')") == "09:30"  # CST

    api = httpx.Client(base_url=asgi_live_server, headers={"Authorization": f"Bearer {center['key']}"}, timeout=15)
    response = api.post(
        "/api/v1/interactions/",
        json={"channel": "chat", "customer": center["customer"].pk, "queue": center["queue"].pk, "body": "Hola"},
    )
    assert response.status_code == 201, response.text
    work = response.json()["id"]
    expect(console.locator("#new-work")).to_contain_text(f"Trabajo nuevo: #{work} de Carla")
    expect(console.locator(f"#work-{work}")).to_contain_text("Asignado")

    console.evaluate("window.SwitchboardLive.connection.ws.close()")
    expect(console.get_by_role("alert").filter(has_text="Conexión perdida; reconectando…")).to_be_visible()
    expect(console.locator("#live-banner")).to_be_hidden()

    # Her preferences page is where she changes either.
    console.get_by_role("link", name="Mis preferencias").click()
    expect(console.get_by_label("Zona horaria")).to_have_value("America/Mexico_City")
    assert problems == []
