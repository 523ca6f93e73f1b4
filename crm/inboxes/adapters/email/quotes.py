"""Quoted history trimmed from a reply's text, for display only: the full text is always kept beside it.

Cut at the first attribution of the history below ("On … wrote:", its common translations, Outlook's
"-----Original Message-----" or its "From: … Sent: …" header block), and drop lines quoted with ">". Inline
answers between quoted lines stay. When trimming would leave nothing, the text is shown whole.
"""

from __future__ import annotations

import re

# "On Mon, 3 Jun 2024 at 10:00, Anna <anna@example.com> wrote:" and its cousins; Gmail wraps it over two lines.
_ATTRIBUTION = re.compile(
    r"^\s*(?:"
    r"On\b.{0,300}\bwrote\s*:"
    r"|Am\b.{0,300}\bschrieb\b.{0,120}:"
    r"|Le\b.{0,300}\ba écrit\s*:"
    r"|El\b.{0,300}\bescribió\s*:"
    r"|Il\b.{0,300}\bha scritto\s*:"
    r"|Op\b.{0,300}\bschreef\b.{0,120}:"
    r"|Em\b.{0,300}\bescreveu\s*:"
    r"|.{1,200}\bwrote\s*:"
    r")\s*$",
    re.IGNORECASE,
)
_OPENER = re.compile(r"^\s*(?:On|Am|Le|El|Il|Op|Em)\s", re.IGNORECASE)
_SEPARATORS = re.compile(
    r"^\s*(?:-{2,}\s*(?:Original Message|Ursprüngliche Nachricht|Message d'origine|Mensaje original"
    r"|Messaggio originale|Oorspronkelijk bericht)\s*-{2,}|_{20,})\s*$",
    re.IGNORECASE,
)
# Outlook's reply header: "From:" followed within a few lines by "Sent:"/"Date:" (and usually To:, Subject:).
_FROM = re.compile(r"^\s*\*?(?:From|Von|De|Da|Van)\s*:\*?\s", re.IGNORECASE)
_SENT = re.compile(r"^\s*\*?(?:Sent|Date|Gesendet|Envoyé|Enviado|Inviato|Verzonden)\s*:\*?\s", re.IGNORECASE)
_QUOTED = re.compile(r"^\s*>")
# A forwarded message is content, not history: never trimmed.
_FORWARD = re.compile(r"^\s*-{2,}\s*(?:Forwarded message|Weitergeleitete Nachricht|Message transféré)", re.I)


def _history_start(lines: list[str]) -> int | None:
    for index, line in enumerate(lines):
        if _FORWARD.match(line):
            return None
        if _SEPARATORS.match(line):
            return index
        if _FROM.match(line) and any(_SENT.match(following) for following in lines[index + 1 : index + 5]):
            return index
        if _ATTRIBUTION.match(line) and _quoted_or_end_follows(lines, index + 1):
            return index
        if index + 1 < len(lines) and _OPENER.match(line):  # Gmail wraps a long attribution over two lines
            joined = f"{line.rstrip()} {lines[index + 1].strip()}"
            if _ATTRIBUTION.match(joined) and _quoted_or_end_follows(lines, index + 2):
                return index
    return None


def _quoted_or_end_follows(lines: list[str], start: int) -> bool:
    """An attribution introduces quoted text (possibly after blank lines); a sentence ending in "wrote:" that is
    followed by the writer's own words is not one."""
    for line in lines[start:]:
        if line.strip():
            return bool(_QUOTED.match(line))
    return True


def trim_quoted(text: str) -> str:
    """The new part of a reply: attribution and everything after it cut, ">"-quoted lines dropped."""
    lines = text.splitlines()
    start = _history_start(lines)
    if start is not None:
        lines = lines[:start]
    kept: list[str] = []
    for line in lines:
        if _QUOTED.match(line):
            continue
        if not line.strip() and kept and not kept[-1].strip():
            continue  # two blank lines where a quote was removed
        kept.append(line.rstrip())
    trimmed = "\n".join(kept).strip()
    return trimmed or text.strip()
