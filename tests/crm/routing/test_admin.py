"""The queue admin: waiting counts, required skills, refused input, overflow cycles, deleting."""

import pytest

from crm.routing.models import Queue, QueueSkill
from tests.agents.factories import SkillFactory
from tests.crm.admin_pages import form_data, url
from tests.crm.factories import InteractionFactory, QueueFactory

pytestmark = pytest.mark.django_db


def test_queue_changelist_shows_the_waiting_count(admin_client):
    queue = QueueFactory(name="Billing")
    InteractionFactory(queue=queue)
    InteractionFactory(queue=queue)

    response = admin_client.get(url(Queue, "changelist"))

    assert response.context["cl"].result_list.get(pk=queue.pk).waiting == 2


def _queue_post(**overrides) -> dict:
    data = {
        "name": "Support",
        "description": "",
        "team": "",
        "channels": ["chat"],
        "priority": "5",
        "sla_policy": "",
        "overflow_queue": "",
        "overflow_after_seconds": "",
        "service_level_seconds": "20",
        "service_level_target": "0.8",
        "surveys_enabled": "on",
        "survey_kind": "csat",
        "survey_delay_seconds": "",
        "is_active": "on",
        "queue_skills-TOTAL_FORMS": "0",
        "queue_skills-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def test_queue_add_with_a_required_skill(admin_client):
    skill = SkillFactory()

    response = admin_client.post(
        url(Queue, "add"),
        _queue_post(
            **{"queue_skills-TOTAL_FORMS": "1", "queue_skills-0-skill": skill.pk, "queue_skills-0-min_level": "4"}
        ),
    )

    assert response.status_code == 302
    queue = Queue.objects.get(name="Support")
    assert list(queue.queue_skills.values_list("skill_id", "min_level")) == [(skill.pk, 4)]


@pytest.mark.parametrize(
    "overrides",
    [
        {"priority": "11"},
        {"channels": ["fax"]},
        {"service_level_target": "0"},
        {"name": "EXISTING"},
        {"overflow_after_seconds": "60"},
        {"queue_skills-TOTAL_FORMS": "1", "queue_skills-0-skill": "999999", "queue_skills-0-min_level": "2"},
        {"queue_skills-TOTAL_FORMS": "1", "queue_skills-0-skill": "SKILL", "queue_skills-0-min_level": "9"},
    ],
)
def test_queue_add_refuses_bad_input_with_a_form_error(admin_client, overrides):
    QueueFactory(name="Existing")
    skill = SkillFactory()
    overrides = {k: (str(skill.pk) if v == "SKILL" else v) for k, v in overrides.items()}

    response = admin_client.post(url(Queue, "add"), _queue_post(**overrides))

    assert response.status_code == 200
    assert response.context["errors"]
    assert Queue.objects.count() == 1 and QueueSkill.objects.count() == 0


def test_queue_change_refuses_an_overflow_cycle(admin_client):
    a = QueueFactory(name="A")
    b = QueueFactory(name="B", overflow_queue=a, overflow_after_seconds=60)
    page = admin_client.get(url(Queue, "change", a.pk))

    data = form_data(page) | {"overflow_queue": str(b.pk), "overflow_after_seconds": "30"}
    response = admin_client.post(url(Queue, "change", a.pk), data)

    assert response.status_code == 200
    assert "cycle" in str(response.context["errors"])
    a.refresh_from_db()
    assert a.overflow_queue_id is None


def test_queue_in_use_cannot_be_deleted_from_the_admin(admin_client):
    queue = QueueFactory(name="Busy")
    InteractionFactory(queue=queue)

    page = admin_client.get(url(Queue, "delete", queue.pk))
    response = admin_client.post(url(Queue, "delete", queue.pk), {"post": "yes"})

    assert "open interactions" in page.content.decode()
    assert response.status_code == 200
    assert Queue.objects.filter(pk=queue.pk).exists()


def test_idle_queue_is_deleted_from_the_admin(admin_client):
    queue = QueueFactory()

    response = admin_client.post(url(Queue, "delete", queue.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not Queue.objects.exists()
