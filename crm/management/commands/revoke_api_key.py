"""``manage.py revoke_api_key PREFIX``: the key stops working at once (it is kept, revoked, for the record)."""

from django.core.management.base import CommandError

from config.audit import AuditedCommand
from crm.access.models import ApiKey
from crm.access.services.api_keys import api_key_revoke, hash_key


class Command(AuditedCommand):
    help = "Revoke an API key, given its prefix (as listed in the admin) or the whole key."

    def add_arguments(self, parser):
        parser.add_argument("prefix", help="the key's prefix, e.g. sb_AbCd1234, or the whole key")

    def handle(self, *args, prefix: str, **options):
        value = prefix.strip()
        key = ApiKey.objects.filter(prefix=value).first() or ApiKey.objects.filter(hashed_key=hash_key(value)).first()
        if key is None:
            raise CommandError(f"No API key with prefix '{value}'.")
        if key.revoked_at is not None:
            self.stdout.write(
                f"API key '{key.name}' ({key.prefix}…) was already revoked at {key.revoked_at:%Y-%m-%d %H:%M} UTC."
            )
            return
        api_key_revoke(api_key=key)
        self.stdout.write(self.style.SUCCESS(f"Revoked API key '{key.name}' ({key.prefix}…)."))
