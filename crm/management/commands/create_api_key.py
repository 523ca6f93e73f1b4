"""``manage.py create_api_key --name NAME --scopes read,write [--team TEAM] [--expires-in-days N]``."""

from datetime import timedelta

from django.core.management.base import CommandError
from django.utils import timezone

from agents.models import Team
from config.api.permissions import ALL_SCOPES
from config.audit import AuditedCommand
from config.errors import DomainError
from crm.access.services.api_keys import api_key_create


class Command(AuditedCommand):
    help = "Create an integrator's API key and print it once; only its hash is stored."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="what the key is for, e.g. 'PBX connector'")
        parser.add_argument("--scopes", required=True, help=f"comma-separated, from: {', '.join(ALL_SCOPES)}")
        parser.add_argument("--team", help="team id or name: the key then sees only that team's work")
        parser.add_argument("--expires-in-days", type=int, help="the key stops working after this many days")

    def handle(self, *args, name: str, scopes: str, team: str | None, expires_in_days: int | None, **options):
        wanted = [scope.strip() for scope in scopes.split(",") if scope.strip()]
        unknown = sorted(set(wanted) - set(ALL_SCOPES))
        if not wanted or unknown:
            raise CommandError(
                f"--scopes must list one or more of {', '.join(ALL_SCOPES)} separated by commas"
                + (f"; unknown: {', '.join(unknown)}." if unknown else ".")
            )
        if expires_in_days is not None and expires_in_days < 1:
            raise CommandError("--expires-in-days must be 1 or more.")
        expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
        try:
            key, raw = api_key_create(
                name=name, scopes=wanted, team=self._team(team) if team else None, expires_at=expires_at
            )
        except DomainError as exc:
            raise CommandError(str(exc)) from None

        # The raw key alone on the first line, so scripts can take it with `head -n1`.
        self.stdout.write(raw)
        details = [f"scopes {', '.join(key.scopes)}"]
        if key.team:
            details.append(f"team {key.team.name}")
        if key.expires_at:
            details.append(f"expires {key.expires_at:%Y-%m-%d %H:%M} UTC")
        self.stdout.write(f"Created API key '{key.name}' ({key.prefix}…): {'; '.join(details)}.")
        self.stdout.write(self.style.WARNING("Store it now: the key is not saved and will not be shown again."))

    def _team(self, value: str) -> Team:
        team = Team.objects.filter(pk=int(value)).first() if value.isdigit() and len(value) < 18 else None
        team = team or Team.objects.filter(name__iexact=value.strip()).first()
        if team is None:
            raise CommandError(f"No team with id or name '{value}'.")
        return team
