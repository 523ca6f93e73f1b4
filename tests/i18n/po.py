"""A tiny reader of gettext .po files (polib is not a dependency): entries with context, ids, translations, flags."""

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def key(self) -> tuple[str | None, str]:
        return self.msgctxt, self.msgid


_KEYWORD = re.compile(r'(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(".*")$')


def read_po(path: Path, *, header: bool = False) -> list[Entry]:
    """Every entry but obsolete (#~) ones, and but the header (msgid "") unless asked for."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int | None] | None = None
    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line:
            if current is not None:
                entries.append(current)
            current, target = None, None
            continue
        current = current or Entry()
        if line.startswith("#~"):
            current.obsolete = True
        elif line.startswith("#,"):
            current.flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif match := _KEYWORD.match(line):
            name, index, text = match.group(1), match.group(2), ast.literal_eval(match.group(3))
            if name == "msgstr":
                target = ("msgstr", int(index or 0))
                current.msgstr[target[1]] = text
            else:
                target = (name, None)
                setattr(current, name, text)
        elif line.startswith('"') and target is not None:
            text = ast.literal_eval(line)
            if target[0] == "msgstr":
                current.msgstr[target[1]] += text
            else:
                setattr(current, target[0], getattr(current, target[0]) + text)
    return [e for e in entries if (e.msgid or header) and not e.obsolete]
