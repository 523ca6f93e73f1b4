"""``manage.py seed_demo``: fill an empty database with a believable contact center to explore.

Idempotent (a second run finds the demo data and changes nothing) and deterministic (same ``--seed``
and ``--now``, same center). Smaller runs for tests: ``--customers 50 --interactions 300 --days 14``.
"""

import os
from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

DEFAULT_PASSWORD = "switchboard"  # noqa: S105  (demo logins, printed on purpose)
PASSWORD_ENV = "SWITCHBOARD_DEMO_PASSWORD"  # noqa: S105  (the variable's name)


def _reference_time(value: str | None) -> datetime:
    """``--now``: an ISO date or date-time (UTC when it names no zone); by default the current hour."""
    if not value:
        return timezone.now().astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    parsed = parse_datetime(value)
    if parsed is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"--now must be an ISO date or date-time such as 2025-06-02T14:00Z, not '{value}'.")
        parsed = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError("must be at least 1")
    return number


class Command(BaseCommand):
    help = (
        "Seed a demo contact center: 3 teams, 30 agents, 6 queues, SLA policies, customers and 90 days of "
        "interactions with events, messages, surveys and presence logs. Runs once: a second run changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=_positive, default=2000)
        parser.add_argument("--interactions", type=_positive, default=20000)
        parser.add_argument("--days", type=_positive, default=90, help="history length, ending at --now")
        parser.add_argument(
            "--now",
            default=None,
            help="reference time the history ends at (ISO date or date-time, UTC by default); default: this hour",
        )
        parser.add_argument("--seed", type=int, default=42, help="random seed: same seed and --now, same data")
        parser.add_argument(
            "--admin-password",
            default=None,
            help=f"password of every demo login (default: ${PASSWORD_ENV}, else '{DEFAULT_PASSWORD}')",
        )

    def handle(self, *args, **options):
        try:
            from crm.demo.seed import demo_seed
        except ImportError as exc:  # Faker ships with requirements-dev.txt
            raise CommandError(f"seed_demo needs the development requirements (requirements-dev.txt): {exc}") from exc

        now = _reference_time(options["now"])
        password = options["admin_password"] or os.environ.get(PASSWORD_ENV) or DEFAULT_PASSWORD
        self.stdout.write(
            f"Seeding the demo center: {options['customers']} customers, {options['interactions']} interactions "
            f"over {options['days']} days up to {now:%Y-%m-%d %H:%M} UTC (seed {options['seed']})…"
        )
        result = demo_seed(
            password=password,
            now=now,
            seed=options["seed"],
            days=options["days"],
            customers=options["customers"],
            interactions=options["interactions"],
        )
        if not result.created:
            self.stdout.write(
                self.style.WARNING("Demo data is already there (demo interactions found); nothing changed.")
            )
            return
        self.stdout.write(self.style.SUCCESS(f"Done in {result.seconds:.1f} s. The database now holds:"))
        width = max(len(label) for label in result.counts)
        for label, count in result.counts.items():
            self.stdout.write(f"  {label:<{width}}  {count:>8}")
        shown = password if password == DEFAULT_PASSWORD else "the one you gave"
        self.stdout.write(f"\nLogins (password: {shown}), at /admin/ and /accounts/login/:")
        for username, role in result.logins:
            note = " (existed before: password unchanged)" if username in result.existing_users else ""
            self.stdout.write(f"  {username:<12} {role}{note}")
        self.stdout.write(
            self.style.WARNING("Every demo login shares this password: never seed a database reachable from outside.")
        )
