"""The demo center's history, drawn in memory before anything is written.

Everything comes from one ``random.Random(seed)`` (Faker seeded from it) and the reference time ``now``,
so the same options give the same center. Each interaction is simulated step by step: a queue wait
calibrated on its SLA target, then the agent the router would pick (the queue's skills, spare capacity
on the channel, at work and not on a break, longest idle first), handling with holds, wrap-up,
resolution and auto-close. The simulation is then cut at ``now``: steps in the future have not
happened yet, so the last hours hold queued, assigned and active work.
"""

import random
from datetime import date, datetime, timedelta

from faker import Faker

from crm.choices import SurveyKind
from crm.demo import vocabulary as V
from crm.demo.choosing import ChoosingPlanner
from crm.demo.people import PeoplePlanner
from crm.demo.shapes import (
    CSAT_BAD,
    CSAT_GOOD,
    DAY,
    FAKER_LOCALES,
    NOTE_RATE,
    NPS_SHARE,
    SURVEY_ANSWER_RATE,
    SURVEY_DELAY,
    SURVEY_FREQUENCY_CAP,
    SURVEY_RATE,
    DemoPlan,
    InteractionPlan,
    NotePlan,
    PersonPlan,
    SurveyPlan,
    pick,
)
from crm.demo.work import WorkPlanner

from .schedule import (
    presence_log,
)


class DemoPlanner(PeoplePlanner, WorkPlanner, ChoosingPlanner):
    """Draws a whole center; ``plan()`` returns it."""

    def __init__(self, *, seed: int, now: datetime, days: int, customers: int, interactions: int):
        self.rng = random.Random(seed)  # noqa: S311  (reproducible demo data, not secrets)
        self.now = now
        self.start = now - days * DAY
        self.n_customers = customers
        self.n_interactions = interactions
        self.fakers = {}
        for language, locale in FAKER_LOCALES.items():
            fake = Faker(locale)
            fake.seed_instance(self.rng.getrandbits(32))
            self.fakers[language] = fake
        # a weekday morning in the middle of the period, if the period is long enough to have one
        self.outage_day: date | None = None
        if days >= 7:
            day = (self.start + (days // 2) * DAY).date()
            while day.weekday() > 4:
                day += DAY
            self.outage_day = day

    def plan(self) -> DemoPlan:
        admin = PersonPlan("admin", "Demo", "Admin")
        supervisors = [PersonPlan(team.supervisor, *self._person_name("en"), team=team.name) for team in V.TEAMS]
        self.agents = self._agents()
        organizations = self._organizations()
        self.org_domains = [domain for _, domain in organizations]
        self.customers = self._customers(len(organizations))
        self.interactions: list[InteractionPlan] = []
        self._interactions()
        for agent in self.agents:
            agent.log = presence_log(roster=agent.roster, work=agent.work, now=self.now)
        return DemoPlan(
            now=self.now,
            start=self.start,
            admin=admin,
            supervisors=supervisors,
            agents=self.agents,
            organizations=organizations,
            customers=self.customers,
            interactions=self.interactions,
            surveys=self._surveys(),
            notes=self._notes([p.username for p in supervisors] + [a.username for a in self.agents]),
        )

    # --- surveys and notes ---

    def _surveys(self) -> list[SurveyPlan]:
        rng = self.rng
        followed_up = {ix.follow_up_of for ix in self.interactions if ix.follow_up_of is not None}
        last_sent: dict[int, datetime] = {}
        surveys = []
        for ix in sorted(
            (i for i in self.interactions if "resolved_at" in i.stamps), key=lambda i: i.stamps["resolved_at"]
        ):
            customer = self.customers[ix.customer]
            sent_at = ix.stamps["resolved_at"] + SURVEY_DELAY
            previous = last_sent.get(ix.customer)
            if (
                customer.survey_opt_out
                or sent_at > self.now
                or (previous is not None and sent_at - previous < SURVEY_FREQUENCY_CAP)
                or rng.random() >= SURVEY_RATE
            ):
                continue
            last_sent[ix.customer] = sent_at
            happy = ix.sla_met and ix.index not in followed_up
            kinds = [SurveyKind.CSAT] + ([SurveyKind.NPS] if rng.random() < NPS_SHARE else [])
            for kind in kinds:
                survey = SurveyPlan(ix.index, kind, sent_at)
                answered_at = sent_at + timedelta(seconds=60 + rng.expovariate(1 / (3 * 3600)))
                if rng.random() < SURVEY_ANSWER_RATE and answered_at <= self.now:
                    survey.answered_at = answered_at
                    if kind == SurveyKind.CSAT:
                        survey.score = pick(rng, CSAT_GOOD if happy else CSAT_BAD)
                    else:
                        band = pick(
                            rng,
                            {"promoter": 0.6, "passive": 0.3, "detractor": 0.1}
                            if happy
                            else {"promoter": 0.25, "passive": 0.3, "detractor": 0.45},
                        )
                        survey.score = {
                            "promoter": rng.randint(9, 10),
                            "passive": rng.randint(7, 8),
                            "detractor": rng.randint(0, 6),
                        }[band]
                    if rng.random() < 0.3:
                        survey.comment = rng.choice(V.SURVEY_COMMENTS_GOOD if happy else V.SURVEY_COMMENTS_BAD)
                surveys.append(survey)
        return surveys

    def _notes(self, authors: list[str]) -> list[NotePlan]:
        rng = self.rng
        window = (self.now - self.start).total_seconds()
        notes = []
        for index in range(len(self.customers)):
            if rng.random() < NOTE_RATE:
                for _ in range(rng.randint(1, 2)):
                    at = self.start + timedelta(seconds=rng.uniform(0, window))
                    notes.append(NotePlan(index, rng.choice(authors), rng.choice(V.CUSTOMER_NOTES), at))
        return notes


def demo_plan(*, seed: int, now: datetime, days: int, customers: int, interactions: int) -> DemoPlan:
    """The whole demo center, in memory."""
    return DemoPlanner(seed=seed, now=now, days=days, customers=customers, interactions=interactions).plan()
