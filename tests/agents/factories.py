import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from factory.django import DjangoModelFactory

from agents.models import (
    Agent,
    AgentSkill,
    AgentStatusLog,
    BreakPolicy,
    Skill,
    Team,
    TrainingCourse,
    TrainingRecord,
)
from config.roles import ADMINISTRATOR_GROUP


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


class AdministratorFactory(UserFactory):
    """A member of the Administrator group (made by a migration): unrestricted, like a superuser, but not one."""

    class Meta:
        skip_postgeneration_save = True

    is_staff = True

    @factory.post_generation
    def administrator_group(self, create, extracted, **kwargs):
        if create:
            # get_or_create: a transactional test elsewhere may have flushed the rows migrations made
            self.groups.add(Group.objects.get_or_create(name=ADMINISTRATOR_GROUP)[0])


class TeamFactory(DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class SkillFactory(DjangoModelFactory):
    class Meta:
        model = Skill

    name = factory.Sequence(lambda n: f"Skill {n}")


class AgentFactory(DjangoModelFactory):
    class Meta:
        model = Agent

    user = factory.SubFactory(UserFactory)
    name = factory.Faker("name")
    team = factory.SubFactory(TeamFactory)
    capacity = factory.LazyFunction(lambda: {"voice": 1, "chat": 3, "email": 5})


class AgentSkillFactory(DjangoModelFactory):
    class Meta:
        model = AgentSkill

    agent = factory.SubFactory(AgentFactory)
    skill = factory.SubFactory(SkillFactory)
    level = 3


class AgentStatusLogFactory(DjangoModelFactory):
    """A log row written directly, for measuring time in state at chosen instants (the service stamps now)."""

    class Meta:
        model = AgentStatusLog

    agent = factory.SubFactory(AgentFactory)
    previous_status = "offline"
    status = "available"
    changed_at = factory.LazyFunction(timezone.now)


class TrainingCourseFactory(DjangoModelFactory):
    class Meta:
        model = TrainingCourse

    title = factory.Sequence(lambda n: f"Course {n}")
    validity_days = 365
    pass_score = 80


class TrainingRecordFactory(DjangoModelFactory):
    """An assigned record; for results prefer ``training_record_result``."""

    class Meta:
        model = TrainingRecord

    agent = factory.SubFactory(AgentFactory)
    course = factory.SubFactory(TrainingCourseFactory)
    assigned_at = factory.LazyFunction(timezone.now)


class BreakPolicyFactory(DjangoModelFactory):
    class Meta:
        model = BreakPolicy
        django_get_or_create = ("team",)

    team = factory.SubFactory(TeamFactory)
