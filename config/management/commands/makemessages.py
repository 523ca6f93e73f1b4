"""``makemessages`` with the project's defaults, so the plain command gives the committed catalogues:
what is not the product (tests, benchmarks, vendored scripts, local data) is never scanned, and no line
numbers are written (a moved line does not change the catalogue; CI compares msgids, see tests/i18n)."""

from django.core.management.commands import makemessages

IGNORED = ["tests/*", "bench/*", "docs/*", "scripts/*", "var/*", "staticfiles/*", "node_modules/*", "*/vendor/*"]


class Command(makemessages.Command):
    def handle(self, *args, **options):
        options["ignore_patterns"] = [*options.get("ignore_patterns", []), *IGNORED]
        options["no_location"] = True
        return super().handle(*args, **options)
