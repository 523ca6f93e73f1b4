"""``manage.py routing_repair_state [--check]``: recount each agent's load and latest assignment, fix any drift."""

from django.core.management.base import CommandError

from config.audit import AuditedCommand
from crm.routing.services.loads import agent_routing_drift, agent_routing_repair


class Command(AuditedCommand):
    help = (
        "Recount every agent's routing state (owned work per channel, latest assignment) from their interactions "
        "and write what differs; --check only reports (exit status 1 on drift)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="report drift without fixing it")

    def handle(self, *args, check: bool, **options):
        drifts = agent_routing_drift() if check else agent_routing_repair()
        for drift in drifts:
            self.stdout.write(str(drift))
        if not drifts:
            self.stdout.write(self.style.SUCCESS("Every agent's routing state matches their work."))
        elif check:
            raise CommandError(f"{len(drifts)} agent(s) with drifted routing state (run without --check to fix).")
        else:
            self.stdout.write(self.style.SUCCESS(f"Fixed the routing state of {len(drifts)} agent(s)."))
