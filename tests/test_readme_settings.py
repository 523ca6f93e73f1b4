"""The README's configuration table and the code agree: every variable the code reads is documented, and every
documented variable is read somewhere."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE = ("config", "crm", "agents", "contacts", "reporting", "scripts")
# env.str("X"), env.int("X", ...), os.environ.get("X"), os.getenv("X"), os.environ["X"], and NAME_ENV = "X"
READ = re.compile(
    r"""(?:\benv(?:\.\w+)?\(\s*|environ\.get\(\s*|getenv\(\s*|environ\[\s*|environ\.setdefault\(\s*|_ENV\s*=\s*)"""
    r"""["']([A-Z][A-Z0-9_]+)["']"""
)
# Read by the code but not configuration an operator sets: the process environment of other tools.
NOT_SETTINGS = {"DJANGO_SETTINGS_MODULE", "PATH", "HOME", "PYTHONPATH", "VIRTUAL_ENV"}


def _documented() -> set[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Configuration", 1)[1].split("\n## ", 1)[0]
    names = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            names |= set(re.findall(r"`([A-Z][A-Z0-9_]+)`", first_cell))
    return names


def _read_by_code() -> dict[str, str]:
    found = {}
    files = [ROOT / "manage.py"] + [p for top in CODE for p in (ROOT / top).rglob("*.py")]
    for path in files:
        for match in READ.finditer(path.read_text()):
            found.setdefault(match.group(1), str(path.relative_to(ROOT)))
    return {name: where for name, where in found.items() if name not in NOT_SETTINGS}


def test_every_setting_the_code_reads_is_in_the_readme_table():
    missing = {name: where for name, where in _read_by_code().items() if name not in _documented()}
    assert missing == {}


def test_every_setting_in_the_readme_table_is_read_by_the_code():
    assert _documented() - set(_read_by_code()) == set()
