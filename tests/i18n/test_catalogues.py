"""The German and Spanish catalogues are complete, compiled, and what ``makemessages`` would make of the code.

(a) no untranslated and no fuzzy entry, placeholders kept (msgfmt --check), the committed .mo says the same as
the .po; (b) ``makemessages`` run on a copy of the project adds no msgid: a string marked in the code but not
translated fails here, in CI (which installs gettext, see .ci/run).
"""

import gettext as gnu
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.i18n.po import read_po

ROOT = Path(settings.BASE_DIR)
LANGUAGES = ["de", "es"]
DOMAINS = ["django", "djangojs"]
CATALOGUES = [(lang, domain) for lang in LANGUAGES for domain in DOMAINS]


def _po(lang: str, domain: str) -> Path:
    return ROOT / "locale" / lang / "LC_MESSAGES" / f"{domain}.po"


def _need_gettext(tool: str) -> None:
    if shutil.which(tool):
        return
    message = f"{tool} not found: apt-get install -y gettext (the catalogue tests are mandatory in CI)"
    if os.environ.get("CI") or os.environ.get("SWITCHBOARD_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


def test_every_configured_language_but_english_has_its_catalogues():
    assert [code for code, _ in settings.LANGUAGES] == ["en", *LANGUAGES]
    for lang, domain in CATALOGUES:
        assert _po(lang, domain).exists() and _po(lang, domain).with_suffix(".mo").exists(), (lang, domain)


@pytest.mark.parametrize(("lang", "domain"), CATALOGUES)
def test_catalogue_has_no_untranslated_or_fuzzy_entry(lang, domain):
    entries = read_po(_po(lang, domain), header=True)
    header = [e for e in entries if not e.msgid]
    assert header and "fuzzy" not in header[0].flags, "the header is still marked fuzzy"
    assert f"Language: {lang}\n" in header[0].msgstr[0]
    fuzzy = [e.msgid for e in entries if e.msgid and "fuzzy" in e.flags]
    untranslated = [e.msgid for e in entries if e.msgid and (not e.msgstr or not all(e.msgstr.values()))]
    assert fuzzy == [], f"fuzzy in {lang}/{domain}.po: {fuzzy}"
    assert untranslated == [], f"untranslated in {lang}/{domain}.po: {untranslated}"


@pytest.mark.parametrize(("lang", "domain"), CATALOGUES)
def test_catalogue_keeps_placeholders_and_is_compiled(lang, domain, tmp_path):
    _need_gettext("msgfmt")
    po = _po(lang, domain)
    # --check: every python-format translation has the msgid's placeholders, plural forms match the header
    msgfmt = shutil.which("msgfmt")
    subprocess.run([msgfmt, "--check", "-o", str(tmp_path / "check.mo"), str(po)], check=True)  # noqa: S603
    with po.with_suffix(".mo").open("rb") as committed:
        compiled = gnu.GNUTranslations(committed)
    stale = []
    for entry in read_po(po):
        key = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid
        if entry.msgid_plural is None:
            if compiled._catalog.get(key) != entry.msgstr[0]:
                stale.append(entry.msgid)
        elif compiled._catalog.get((key, 0)) != entry.msgstr[0]:
            stale.append(entry.msgid)
    assert stale == [], f"{lang}/{domain}.mo is older than its .po (run `make messages`): {stale[:5]}"


def _copy_of_the_project(target: Path) -> Path:
    ignore = shutil.ignore_patterns(".git", ".venv", "var", "staticfiles", "node_modules", "tests", "bench", "*.pyc")
    shutil.copytree(ROOT, target, ignore=ignore, symlinks=True)
    return target


def test_makemessages_finds_no_string_the_catalogues_lack(tmp_path):
    _need_gettext("xgettext")
    copy = _copy_of_the_project(tmp_path / "project")
    for domain in DOMAINS:
        subprocess.run(  # noqa: S603 (our own manage.py)
            [sys.executable, "manage.py", "makemessages", "-d", domain, "-l", "de", "--no-obsolete", "-v", "0"],
            cwd=copy,
            check=True,
            env={**os.environ, "PYTHONPATH": str(copy)},
            timeout=300,
        )
    for domain in DOMAINS:
        committed = {e.key for e in read_po(_po("de", domain))}
        extracted = {e.key for e in read_po(copy / "locale" / "de" / "LC_MESSAGES" / f"{domain}.po")}
        assert sorted(extracted - committed, key=str) == [], f"marked but not in {domain}.po: run `make messages`"
        assert sorted(committed - extracted, key=str) == [], f"in {domain}.po but no longer in the code"
    # every catalogue has the same msgids as the German one
    for domain in DOMAINS:
        assert {e.key for e in read_po(_po("es", domain))} == {e.key for e in read_po(_po("de", domain))}
