"""A person's language and time zone, a customer's language: what each of them sees (issue 17, item 5).

German supervisor: the admin in German. Spanish agent: the console in Spanish, times in their zone. No
preference: the browser's Accept-Language. A customer: surveys and their e-mail in the customer's `language`,
whatever the browser says.
"""

import datetime as dt

import pytest
from django.core import mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from agents.models import UserPreference
from config.i18n import supported_language
from crm.choices import SurveyKind
from crm.surveys.senders import EmailSender
from crm.surveys.services import survey_token
from tests.agents.factories import AgentFactory, TeamFactory, UserFactory
from tests.contacts.factories import CustomerFactory
from tests.crm.factories import InteractionFactory, SurveyFactory

pytestmark = pytest.mark.django_db


def prefer(user, *, language="", time_zone=""):
    return UserPreference.objects.create(user=user, language=language, time_zone=time_zone)


@pytest.fixture
def supervisor():
    user = UserFactory(username="gerda", is_staff=True)
    TeamFactory(name="Support").supervisors.add(user)
    return user


def test_german_supervisor_sees_the_admin_index_in_german(client, supervisor):
    prefer(supervisor, language="de")
    client.force_login(supervisor)
    page = client.get("/admin/", headers={"accept-language": "en"}).content.decode()
    assert '<html lang="de"' in page
    assert "Switchboard-Verwaltung" in page and "Meine Einstellungen" in page  # ours
    assert "Abmelden" in page  # Django's own catalogue
    assert "Switchboard administration" not in page


def test_the_admin_lists_its_models_in_the_users_language(client):
    administrator = UserFactory(username="greta", is_staff=True, is_superuser=True)
    prefer(administrator, language="de")
    client.force_login(administrator)
    page = client.get("/admin/").content.decode()
    for text in (
        "Arbeit",
        "Personal",
        "Einrichtung",
        "Vorgänge",
        "Warteschlangen",
        "Pausenregeln",
        "Kunden",
        "Umfragen",
    ):
        assert text in page, text


def test_without_a_preference_the_browser_language_is_used(client, supervisor):
    client.force_login(supervisor)
    page = client.get("/admin/", headers={"accept-language": "es-ES,es;q=0.9,en;q=0.5"}).content.decode()
    assert "Administración de Switchboard" in page and "Mis preferencias" in page


def test_the_preference_beats_the_browser(client, supervisor):
    prefer(supervisor, language="de")
    client.force_login(supervisor)
    page = client.get("/admin/", headers={"accept-language": "es"}).content.decode()
    assert "Switchboard-Verwaltung" in page


@pytest.fixture
def spanish_agent():
    agent = AgentFactory(user=UserFactory(username="sofia"), name="Sofía", team=TeamFactory(name="Ventas"))
    prefer(agent.user, language="es", time_zone="America/Mexico_City")
    agent.status_changed_at = dt.datetime(2026, 7, 1, 15, 30, tzinfo=dt.UTC)  # 09:30 in Mexico City (CST)
    agent.save(update_fields=["status_changed_at"])
    return agent


def test_spanish_agent_sees_the_console_in_spanish_with_times_in_their_zone(client, spanish_agent):
    client.force_login(spanish_agent.user)
    page = client.get("/console/", headers={"accept-language": "de"}).content.decode()
    assert '<html lang="es" data-time-zone="America/Mexico_City"' in page
    for text in ("Consola", "Mi estado", "Mi trabajo", "Mis colas", "Cerrar sesión", "Atajos de teclado"):
        assert text in page, text
    assert "desde las 09:30 CST" in page  # 15:30 UTC, shown in the agent's zone
    assert 'src="/jsi18n/"' in page  # the scripts' strings come in Spanish too


def test_javascript_catalogue_follows_the_user(client, spanish_agent):
    client.force_login(spanish_agent.user)
    script = client.get("/jsi18n/").content.decode()
    assert '"Desconectado"' in script and '"Conexi\\u00f3n perdida; reconectando\\u2026"' in script


def test_dates_on_the_interaction_page_are_in_the_users_format_and_zone(client, spanish_agent):
    UserPreference.objects.filter(user=spanish_agent.user).update(language="de", time_zone="Europe/Berlin")
    interaction = InteractionFactory(
        status="assigned", agent=spanish_agent, created_at=dt.datetime(2026, 12, 4, 7, 5, tzinfo=dt.UTC)
    )
    client.force_login(spanish_agent.user)
    page = client.get(reverse("console:interaction", args=[interaction.pk])).content.decode()
    assert "eingegangen 04.12.2026 08:05" in page  # German date, Berlin time (UTC+1)


def test_numbers_and_plurals_follow_the_language():
    context = {"qa_score": (87.5, 2), "reviews": []}
    with translation.override("de"):
        assert "QS-Wert: <strong>87,5</strong> aus 2 Bewertungen" in render_to_string("console/_reviews.html", context)
    with translation.override("es"):
        assert "<strong>87,5</strong> en 2 evaluaciones" in render_to_string("console/_reviews.html", context)
    with translation.override("en"):
        assert "QA score: <strong>87.5</strong> over 2 reviews" in render_to_string("console/_reviews.html", context)


def test_user_sets_their_own_language_and_time_zone(client, spanish_agent):
    user = UserFactory(username="otto")
    client.force_login(user)
    page = client.get(reverse("preferences")).content.decode()
    assert "My preferences" in page and "Europe/Berlin" in page
    response = client.post(reverse("preferences"), {"language": "de", "time_zone": "Europe/Berlin"}, follow=True)
    assert response.status_code == 200
    assert "Ihre Einstellungen wurden gespeichert." in response.content.decode()  # already in the new language
    assert UserPreference.objects.filter(user=user, language="de", time_zone="Europe/Berlin").exists()
    # the next page is German without asking the database again for it (kept in the session)
    assert "Meine Einstellungen" in client.get(reverse("preferences")).content.decode()


def test_preferences_refuse_an_unknown_zone_or_language(client):
    client.force_login(UserFactory(username="otto"))
    response = client.post(reverse("preferences"), {"language": "xx", "time_zone": "Mars/Olympus"})
    assert response.status_code == 200  # the form again, with its errors
    assert response.content.decode().count('class="field-errors"') == 2
    assert not UserPreference.objects.exists()


def test_preferences_need_a_sign_in(client):
    assert client.get(reverse("preferences")).status_code == 302


# --- customers -----------------------------------------------------------------------------------------------


def test_customer_language_is_reduced_to_one_we_speak():
    assert supported_language("es-MX") == "es"
    assert supported_language("de_AT") == "de"
    assert supported_language("pt-BR") == "en"
    assert supported_language("") == "en"


@pytest.fixture
def spanish_survey():
    customer = CustomerFactory(name="Lucía", email="lucia@example.com", language="es-MX")
    return SurveyFactory(kind=SurveyKind.CSAT, interaction=InteractionFactory(customer=customer, subject="Router"))


def test_survey_page_speaks_the_customers_language_not_the_browsers(client, spanish_survey):
    url = reverse("survey-answer", kwargs={"token": survey_token(survey=spanish_survey)})
    response = client.get(url, headers={"accept-language": "de"})
    page = response.content.decode()
    assert response["Content-Language"] == "es" and '<html lang="es">' in page
    assert "¿Qué tan satisfecho está con la ayuda que recibió?" in page and "Muy satisfecho" in page
    response = client.post(url, {"score": "9"}, headers={"accept-language": "de"})
    assert response.status_code == 400 and "La puntuación debe estar entre 1 y 5." in response.content.decode()
    response = client.post(url, {"score": "5"}, headers={"accept-language": "de"})
    assert "Su respuesta se ha registrado." in response.content.decode()


def test_survey_email_is_written_in_the_customers_language(spanish_survey):
    with translation.override("de"):  # whoever triggers it: the customer's language wins
        EmailSender().send(survey=spanish_survey, link="https://example.com/s/abc/")
    [message] = mail.outbox
    assert message.subject == "¿Qué tal lo hicimos?: Router"
    assert message.body.startswith("Hola, Lucía:") and "Hace poco le ayudamos con «Router»." in message.body
    assert message.extra_headers["Content-Language"] == "es"
    html = message.alternatives[0][0]
    assert '<html lang="es">' in html and "Valore nuestra ayuda" in html
