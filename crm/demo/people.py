"""The demo planner's people: agents (with their rosters and presence), organizations and customers.

A mixin of ``crm.demo.plan.DemoPlanner``: it reads and fills the planner's state (``self.rng``, ``self.plan``…).
"""

import re
from datetime import timedelta

from config.choices import Channel
from crm.demo import vocabulary as V
from crm.demo.shapes import (
    COUNTRY_OF_ZONE,
    LANGUAGE_MIX,
    ORG_CUSTOMER_SHARE,
    ORG_TIER_MIX,
    TIER_MIX,
    TIMEZONES,
    AgentPlan,
    CustomerPlan,
    ascii_slug,
    phone_numbers,
    pick,
)

from .schedule import (
    build_roster,
)


class PeoplePlanner:
    def _person_name(self, language: str) -> tuple[str, str]:
        fake = self.fakers[language]
        return fake.first_name(), fake.last_name()

    def _agents(self) -> list[AgentPlan]:
        rng = self.rng
        agents = []
        for index in range(len(V.TEAMS) * V.AGENTS_PER_TEAM):
            team = V.TEAMS[index // V.AGENTS_PER_TEAM]
            senior = index % V.AGENTS_PER_TEAM < 4  # four seniors per team: VIP Care needs English 4
            skills = {team.skill: rng.randint(4, 5) if senior else rng.randint(2, 4)}
            skills["English"] = rng.randint(4, 5) if senior else rng.randint(3, 5)
            for other in V.TEAMS:
                if other.skill not in skills and rng.random() < 0.3:
                    skills[other.skill] = rng.randint(1, 2)
            language = "en"
            # two Spanish speakers per team, one on each shift; a few French and German speakers
            if index % 10 in (1, 4):
                skills["Spanish"], language = rng.randint(3, 5), "es"
            elif index % 10 == 6:
                skills["French"], language = rng.randint(3, 5), "fr"
            elif index % 10 == 7:
                skills["German"], language = rng.randint(3, 5), "de"
            capacity = {Channel.VOICE: 1, Channel.CHAT: rng.randint(2, 3), Channel.EMAIL: rng.randint(4, 6)}
            if team.name == "Technical Support" or index % 3 == 0:
                capacity[Channel.SMS] = rng.randint(2, 4)
                capacity[Channel.SOCIAL] = rng.randint(2, 3)
            first, last = self._person_name(language)
            agents.append(
                AgentPlan(
                    username=f"agent{index + 1}",
                    first_name=first,
                    last_name=last,
                    team=team.name,
                    index=index,
                    capacity=capacity,
                    skills=skills,
                    roster=build_roster(rng=rng, index=index, start=self.start, now=self.now),
                )
            )
        self.eligible = {
            (queue.name, channel): [
                agent
                for agent in agents
                if agent.capacity.get(channel, 0) > 0
                and all(agent.skills.get(skill, 0) >= level for skill, level in queue.skills)
            ]
            for queue in V.QUEUES
            for channel in queue.channels
        }
        return agents

    def _organizations(self) -> list[tuple[str, str]]:
        count = min(50, max(1, self.n_customers // 40))
        names: dict[str, tuple[str, str]] = {}
        fake = self.fakers["en"]
        for _ in range(count * 100):  # Faker has thousands of company names; the bound only guards the loop
            if len(names) == count:
                break
            name = fake.company()
            slug = re.sub(r"-+", "-", re.sub(r"[^a-z0-9]+", "-", name.lower())).strip("-")[:40]
            if name.casefold() not in names and slug not in {d.split(".")[0] for _, d in names.values()}:
                names[name.casefold()] = (name, f"{slug}.example")
        return list(names.values())

    def _customers(self, n_orgs: int) -> list[CustomerPlan]:
        rng = self.rng
        phones = phone_numbers(rng)
        emails: set[str] = set()
        handles: set[str] = set()
        customers = []
        for index in range(self.n_customers):
            language = pick(rng, LANGUAGE_MIX)
            first, last = self._person_name(language)
            timezone_name = pick(rng, TIMEZONES[language])
            organization = rng.randrange(n_orgs) if rng.random() < ORG_CUSTOMER_SHARE else None
            tier = pick(rng, ORG_TIER_MIX if organization is not None else TIER_MIX)
            customer = CustomerPlan(
                first_name=first,
                last_name=last,
                language=language,
                timezone=timezone_name,
                tier=tier,
                tags=sorted(rng.sample(V.CUSTOMER_TAGS, rng.choice((0, 0, 0, 1, 1, 2)))),
                attributes={"account_number": f"AC-{100001 + index}", "plan": rng.choice(V.PLANS)},
                survey_opt_out=rng.random() < 0.05,
                marketing_consent=rng.random() < 0.4,
                created_at=self.start - timedelta(days=rng.uniform(1, 1000)),
                organization=organization,
                weight=rng.lognormvariate(0, 0.9),
            )
            country = "US" if timezone_name.startswith("America/") else COUNTRY_OF_ZONE.get(timezone_name)
            wants_phone = country is not None and bool(phones[country]) and rng.random() < 0.7
            if organization is not None or not wants_phone or rng.random() < 0.85:
                local = f"{ascii_slug(first) or 'customer'}.{ascii_slug(last) or index}"
                domain = (
                    self.org_domains[organization]
                    if organization is not None
                    else rng.choice(("example.com", "example.net", "example.org"))
                )
                email, suffix = f"{local}@{domain}", 1
                while email in emails:
                    suffix += 1
                    email = f"{local}{suffix}@{domain}"
                emails.add(email)
                customer.email = email
            if wants_phone:
                customer.phone = phones[country].pop()
            if rng.random() < 0.12:
                handle = "@" + (ascii_slug(first)[:10] + ascii_slug(last)[:6] or "user") + str(rng.randint(1, 99))
                if handle not in handles:
                    handles.add(handle)
                    customer.social = handle
            customers.append(customer)
        return customers
