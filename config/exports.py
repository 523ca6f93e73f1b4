"""CSV that a spreadsheet opens as data, never as formulas: every CSV the product writes goes through here.

A cell starting with ``=``, ``+``, ``-`` or ``@`` (or a tab, carriage return or line feed, which some
spreadsheets skip before reading one of those) is a formula to Excel, LibreOffice and Google Sheets: a
category or a name such as ``=HYPERLINK("http://evil","click")`` typed by a customer or an agent would run on
the supervisor's machine. OWASP's advice is followed: such a text cell is written with a leading ``'``, which
the spreadsheet shows as text. Real numbers (ints, floats, Decimals, and strings that are exactly a number,
such as ``-3.5``) are written as they are, so negative figures stay figures.
"""

import csv
import re
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
# A plain decimal number, optionally signed, with an optional exponent: "-3.5", "+7", "1e-3", ".5".
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
BOM = "\ufeff"  # Excel reads a UTF-8 file as UTF-8 only when it starts with the byte-order mark


def inert_cell(value: Any) -> Any:
    """``value`` as a CSV cell that cannot be a formula: ``None`` is empty, numbers stay, risky text gets ``'``."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal):  # bool is an int: written True/False, never a formula
        return value
    text = value if isinstance(value, str) else str(value)
    if text.startswith(FORMULA_PREFIXES) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


class InertWriter:
    """``csv.writer`` whose every cell passes through ``inert_cell``; returns what the file's ``write`` returns."""

    def __init__(self, file, **kwargs: Any) -> None:
        self._writer = csv.writer(file, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([inert_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(file, **kwargs: Any) -> InertWriter:
    """The CSV writer to use for any export (admin actions, audit logs, reports)."""
    return InertWriter(file, **kwargs)


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[dict[str, Any]], *, bom: bool = True) -> Iterator[str]:
    """The lines of a CSV, header first, of dict ``rows`` read by ``header``: for a ``StreamingHttpResponse``."""
    writer = csv_writer(_Echo())
    yield (BOM if bom else "") + writer.writerow(header)
    for row in rows:
        yield writer.writerow([row[name] for name in header])
